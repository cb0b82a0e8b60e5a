// The raw twin of ../Lib/Program.cs: start and join one Thread, same output.
int ran = 0;
var thread = new Thread(() => ran = 1);
thread.Start();
thread.Join();
Console.Out.Write(ran == 1 ? "ok\n" : "not run\n");
return ran == 1 ? 0 : 3;
