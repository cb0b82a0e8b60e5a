using System.Runtime.InteropServices;

// The raw twin plus what the library must do at initialisation (README "Performance"): the exit handler, the
// Unloading handler (raised before every ProcessExit handler, so that Exit called from an application's ProcessExit
// handler is seen as "inside ProcessExit", issue 9 #5; it loads the System.Runtime.Loader facade), and the three signal
// registrations, which must exist before a signal can be handled. Its cost over Raw is the floor.
System.Runtime.Loader.AssemblyLoadContext.Default.Unloading += static _ => { };
AppDomain.CurrentDomain.ProcessExit += static (_, _) => { };
using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, static c => c.Cancel = true);
using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, static c => c.Cancel = true);
using var hangup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, static c => c.Cancel = true);
int ran = 0;
var thread = new Thread(() => ran = 1);
thread.Start();
thread.Join();
Console.Out.Write(ran == 1 ? "ok\n" : "not run\n");
return ran == 1 ? 0 : 3;
