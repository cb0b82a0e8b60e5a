using System.Runtime.CompilerServices;

namespace DaemonThreads.Internal;

/// <summary>Reads and writes the ExecutionContext a <see cref="Thread"/> object carries (the runtime's <c>Thread._executionContext</c>).</summary>
/// <remarks>
/// <para>
/// Why: the owner of a <see cref="DaemonThread"/> must be in its thread's context before the body runs (SPEC 2.2), and
/// the public ways to get it there (<see cref="Thread.Start()"/> capturing it, <see cref="ExecutionContext.Run"/> on the
/// new thread) make the new thread install the context, which allocates its thread-static block, which takes an 8 KiB
/// allocation context from the GC: that was all of the RSS per thread over a bare raw thread (benchmarks/README.md).
/// Writing the field of the unstarted Thread from the starter gives the new thread the same context with nothing to
/// install.
/// </para>
/// <para>
/// The field is the runtime's, not public API (CoreCLR, NativeAOT and Mono all have it): when it is missing, every call
/// answers <see langword="false"/> once the first has found out, and the callers take the public path.
/// </para>
/// </remarks>
internal static class RuntimeThreadContext
{
    private static volatile bool s_unavailable;

    /// <summary>Gets a value indicating whether the calling thread runs under the default context (nothing would flow into a thread it starts).</summary>
    internal static bool CurrentIsDefault()
    {
        if (s_unavailable)
        {
            return false;
        }

        try
        {
            return ContextOf(Thread.CurrentThread) is null;
        }
        catch (MissingFieldException)
        {
            s_unavailable = true;
            return false;
        }
    }

    /// <summary>Makes <paramref name="context"/> the context an unstarted <paramref name="thread"/> starts under.</summary>
    /// <returns><see langword="false"/> when the runtime has no such field.</returns>
    internal static bool TryPlace(Thread thread, ExecutionContext context)
    {
        if (s_unavailable)
        {
            return false;
        }

        try
        {
            ContextOf(thread) = context;
            return true;
        }
        catch (MissingFieldException)
        {
            s_unavailable = true;
            return false;
        }
    }

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_executionContext")]
    private static extern ref ExecutionContext? ContextOf(Thread thread);
}
