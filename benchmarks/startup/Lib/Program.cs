using DaemonThreads;

// The short program of issue 11: RunMain, then start and join one DaemonThread, written as a user would (a lambda,
// the generated name). Prints one line so that the exit-path check can assert the thread ran and the sequence ended.
// With the argument "named" the thread gets a name of its own, which skips building Thread-N (<lambda>) from the
// target (benchmarks/README.md, "Where the start-up time goes").
return ExitRegistry.RunMain(() =>
{
    int ran = 0;
    var thread = args.Length > 0 && args[0] == "named" ? new DaemonThread(() => ran = 1, name: "worker") : new DaemonThread(() => ran = 1);
    thread.Start();
    thread.Join();
    Console.Out.Write(ran == 1 ? "ok\n" : "not run\n");
    return ran == 1 ? 0 : 3;
});
