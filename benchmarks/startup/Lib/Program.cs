using DaemonThreads;

// The short program of issue 11: RunMain, then start and join one DaemonThread, written as a user would (a lambda,
// the generated name). Prints one line so that the exit-path check can assert the thread ran and the sequence ended.
return ExitRegistry.RunMain(() =>
{
    int ran = 0;
    var thread = new DaemonThread(() => ran = 1);
    thread.Start();
    thread.Join();
    Console.Out.Write(ran == 1 ? "ok\n" : "not run\n");
    return ran == 1 ? 0 : 3;
});
