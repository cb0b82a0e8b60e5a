namespace DaemonThreads.Internal;

/// <summary>
/// A kind of exit work that is not a plain thread (a <c>DaemonThreadPool</c>): told when the sequence begins, and
/// asked at the point of no return what it leaves unfinished.
/// </summary>
internal interface IExitParticipant
{
    /// <summary>Called once in the before-join step, after the user's before-join hooks (CPython's <c>_python_exit</c>).</summary>
    /// <remarks>Must not block: it marks the participant shut down and wakes its threads, which the join step then waits for.</remarks>
    void BeginShutdown();

    /// <summary>Called once at the point of no return: cancels what never started and adds an entry per unfinished group.</summary>
    void AtPointOfNoReturn(List<UnfinishedWork> unfinished);
}
