#if NET10_0_OR_GREATER
using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace DaemonThreads.Internal;

/// <summary>Under NativeAOT, the name of the method a delegate calls, from the image's stack-trace data and no reflection.</summary>
/// <remarks>
/// <para>
/// <c>DiagnosticMethodInfo.Create(Delegate)</c> reads the stack-trace data too, but only after a branch (open-instance
/// delegates) that calls the reflection runtime: that one reference compiled the reflection runtime and the type loader
/// into every image, 14,000 nodes of the compiler's graph and 2 points of a short program's start-up (benchmarks/README.md,
/// "Wave 6"). This takes the same path without the branch: the delegate's code address
/// (<c>Delegate.GetDelegateLdFtnResult</c>), the generic method's code behind a fat pointer, an unboxing or import stub
/// followed to its method (<c>RuntimeAugments.GetCodeTarget</c>), then a <see cref="StackFrame"/> for that address (its
/// internal constructor), whose <see cref="DiagnosticMethodInfo"/> the stack-trace data answers. The members are reached
/// through <see cref="UnsafeAccessorAttribute"/>.
/// </para>
/// <para>
/// Returns <see langword="null"/> where it cannot tell (stack-trace data disabled with <c>StackTraceSupport=false</c>, an
/// open-instance delegate, a member missing from another runtime version): the caller then names the target
/// <c>&lt;target&gt;</c>, as it did when the data was disabled.
/// </para>
/// </remarks>
internal static class NativeAotMethodInfo
{
    // NativeAOT tags a pointer to a generic method's descriptor (its code, then its instantiation argument) with this bit.
    private const nint FatFunctionPointerOffset = 2;

    private const string RuntimeAugments = "Internal.Runtime.Augments.RuntimeAugments, System.Private.CoreLib";

    private static volatile bool s_unavailable;

    /// <summary>Gets what the stack-trace data says of the method <paramref name="target"/> calls (the last one of a multicast delegate).</summary>
    internal static unsafe DiagnosticMethodInfo? Of(Delegate target)
    {
        if (s_unavailable)
        {
            return null;
        }

        if (!target.HasSingleTarget)
        {
            Delegate[] list = target.GetInvocationList();
            target = list[^1];
        }

        try
        {
            nint code = GetDelegateLdFtnResult(target, out _, out bool isOpenResolver);
            if (isOpenResolver || code == 0)
            {
                return null;
            }

            if ((code & FatFunctionPointerOffset) != 0)
            {
                code = GetCodeTarget(null, *(nint*)(code - FatFunctionPointerOffset));
            }
            else
            {
                // A struct's instance method is called through an unboxing stub, a method in another module through an
                // import stub: the method is what the stub goes to (as Delegate.GetDiagnosticMethodInfo reads it).
                nint method = GetCodeTarget(null, code);
                if (method == code)
                {
                    method = GetTargetOfUnboxingAndInstantiatingStub(null, code);
                }

                code = method != 0 ? method : code;
            }

            return DiagnosticMethodInfo.Create(NewStackFrame(code, needFileInfo: false));
        }
        catch (Exception e) when (e is MissingMemberException or TypeLoadException)
        {
            s_unavailable = true;
            return null;
        }
    }

    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "GetDelegateLdFtnResult")]
    private static extern nint GetDelegateLdFtnResult(Delegate target, out RuntimeTypeHandle typeOfFirstParameterIfInstanceDelegate, out bool isOpenResolver);

    [UnsafeAccessor(UnsafeAccessorKind.StaticMethod, Name = "GetCodeTarget")]
    private static extern nint GetCodeTarget([UnsafeAccessorType(RuntimeAugments)] object? augments, nint functionPointer);

    [UnsafeAccessor(UnsafeAccessorKind.StaticMethod, Name = "GetTargetOfUnboxingAndInstantiatingStub")]
    private static extern nint GetTargetOfUnboxingAndInstantiatingStub([UnsafeAccessorType(RuntimeAugments)] object? augments, nint functionPointer);

    [UnsafeAccessor(UnsafeAccessorKind.Constructor)]
    private static extern StackFrame NewStackFrame(nint ipAddress, bool needFileInfo);
}
#endif
