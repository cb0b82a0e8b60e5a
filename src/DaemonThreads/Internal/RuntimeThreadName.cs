using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace DaemonThreads.Internal;

/// <summary>Names the calling thread, managed and OS-visible, without taking its <see cref="Thread"/> object's lock.</summary>
/// <remarks>
/// <para>
/// Why: the <see cref="Thread.Name"/> setter locks the Thread object, and <see cref="Thread.Start()"/> holds that lock
/// on the starter until it has seen the new thread running. A new thread that names itself first thing contended for
/// it on most starts: perf showed <c>Monitor.Enter_Slowpath</c> called from <c>Bootstrap</c> at 2% of the CPU of a
/// start+join loop, and under load the new thread then waited until the starter was scheduled again, where a raw thread
/// simply runs on (benchmarks/README.md, issue 11 wave 2). Naming an unstarted Thread instead makes the runtime rename
/// the OS thread from the starter, which is slower still.
/// </para>
/// <para>
/// This writes what the setter writes: the managed name (the runtime's <c>Thread._name</c>, which
/// <see cref="Thread.Name"/> returns) and the OS name (<see cref="NativeThread.TrySetCurrentName"/>). Under a debugger,
/// where the field or the OS call is missing, or on a platform without the OS call, the caller uses the setter, which
/// also tells an attached debugger about the new name. Under NativeAOT the OS name is set by the runtime's own
/// <c>ThreadNameChanged</c> (what the setter calls), not by a P/Invoke.
/// </para>
/// </remarks>
internal static class RuntimeThreadName
{
    private static volatile bool s_unavailable;

    /// <summary>Names the calling thread, whose Thread object is <paramref name="current"/>.</summary>
    /// <returns><see langword="false"/> when nothing was changed: the caller sets <see cref="Thread.Name"/> instead.</returns>
    internal static bool TrySetOnCurrentThread(Thread current, string name)
    {
        if (!RuntimeFeature.IsDynamicCodeSupported)
        {
            return TrySetWithRuntime(current, name);
        }

        if (s_unavailable || Debugger.IsAttached || !NativeThread.TrySetCurrentName(name))
        {
            return false;
        }

        try
        {
            NameOf(current) = name;
            return true;
        }
        catch (MissingFieldException)
        {
            s_unavailable = true;
            return false;
        }
    }

    // NativeAOT: the setter's own two steps without its lock, the runtime's ThreadNameChanged (the OS name) and then the
    // field, so no P/Invoke (the process's first resolves its library in managed code, NativeThread). In this order: if
    // the field is missing, the setter the caller then uses still finds a different name and renames the OS thread.
    private static bool TrySetWithRuntime(Thread current, string name)
    {
        if (s_unavailable || Debugger.IsAttached)
        {
            return false;
        }

        try
        {
            ThreadNameChanged(current, name);
            NameOf(current) = name;
            return true;
        }
        catch (Exception e) when (e is MissingMethodException or MissingFieldException)
        {
            s_unavailable = true;
            return false;
        }
    }

    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "ThreadNameChanged")]
    private static extern void ThreadNameChanged(Thread thread, string? value);

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "_name")]
    private static extern ref string? NameOf(Thread thread);
}
