namespace DaemonThreads.Tests.Infrastructure;

/// <summary>Runs code on a chosen kind of thread and brings its result back, joining every thread it starts.</summary>
public static class ThreadTestHelpers
{
    /// <summary>
    /// Starts and joins enough threads that every later start takes the runtime-private fast paths
    /// (<c>DaemonThread.WarmStart</c>): the first few starts of a process take the public ones.
    /// </summary>
    public static void WarmUpStarts()
    {
        for (int i = 0; i <= DaemonThread.ColdStarts; i++)
        {
            var warm = new DaemonThread(() => { }, name: "warm-up", isDaemon: true);
            warm.Start();
            warm.Join(TestTimeouts.Unexpected).Should().BeTrue();
        }
    }

    /// <summary>Runs <paramref name="func"/> on a started <see cref="DaemonThread"/> with the given daemon flag.</summary>
    public static T OnDaemonThread<T>(bool isDaemon, Func<T> func)
    {
        T result = default!;
        var thread = new DaemonThread(() => result = func(), isDaemon: isDaemon);
        thread.Start();
        thread.Join(TestTimeouts.Unexpected).Should().BeTrue("the helper thread runs a short function");
        return result;
    }

    /// <summary>Runs <paramref name="func"/> on a raw <see cref="Thread"/> (a foreign thread, adopted as a dummy).</summary>
    public static T OnRawThread<T>(Func<T> func)
    {
        T result = default!;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                result = func();
            }
            catch (Exception ex)
            {
                failure = ex;
            }
        });
        thread.Start();
        thread.Join(TestTimeouts.Unexpected).Should().BeTrue("the raw thread runs a short function");
        if (failure is not null)
        {
            throw new InvalidOperationException("the raw thread failed", failure);
        }

        return result;
    }

    /// <summary>
    /// Runs <paramref name="func"/> as the main program: on a pool thread with no owner flowing to it (no
    /// ExecutionContext), which the library counts as the main program (SPEC 2.2).
    /// </summary>
    public static T OnMainProgram<T>(Func<T> func)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        ThreadPool.UnsafeQueueUserWorkItem(
            _ =>
            {
                try
                {
                    done.SetResult(func());
                }
                catch (Exception ex)
                {
                    done.SetException(ex);
                }
            },
            null);
        done.Task.Wait(TestTimeouts.Unexpected).Should().BeTrue("the pool runs a short function");
        return done.Task.Result;
    }
}
