using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace DaemonThreads.Internal;

/// <summary>Reads the operating system's id of the calling thread (Python's <c>get_native_id()</c>).</summary>
/// <remarks>
/// The call is a system call (about 1 µs on the reference VM), so each thread reads it once, when it starts, and
/// caches it. The runtime's own <c>Thread.CurrentOSThreadId</c> is not public: under NativeAOT it is read through an
/// <see cref="UnsafeAccessorAttribute"/> (a direct call into the runtime), because there the process's first P/Invoke
/// resolves its library in managed code, which cost the short program 150-300 µs and could reach 2 ms when it also
/// initialised globalization (benchmarks/README.md, "Wave 5"). Under the JIT the accessor is compiled at run time and
/// measured no cheaper than the P/Invoke, so the P/Invoke stays.
/// </remarks>
internal static partial class NativeThread
{
    /// <summary>Gets the OS thread id of the calling thread, or <see langword="null"/> on a platform without one.</summary>
    internal static long? CurrentId()
    {
        if (!RuntimeFeature.IsDynamicCodeSupported && !s_runtimeIdMissing)
        {
            try
            {
                return (long)RuntimeCurrentOSThreadId(null);
            }
            catch (MissingMethodException)
            {
                s_runtimeIdMissing = true; // a runtime without the member: the P/Invoke below
            }
        }

        try
        {
            if (OperatingSystem.IsLinux())
            {
                return LinuxThreadId();
            }

            if (OperatingSystem.IsWindows())
            {
                return Windows.GetCurrentThreadId();
            }

            if (OperatingSystem.IsMacOS() || OperatingSystem.IsIOS() || OperatingSystem.IsTvOS() || OperatingSystem.IsMacCatalyst())
            {
                return Apple.pthread_threadid_np(IntPtr.Zero, out ulong id) == 0 ? (long)id : null;
            }
        }
        catch (EntryPointNotFoundException)
        {
            // An old libc without gettid(): there is no cheap portable fallback, so the id stays unknown.
            return null;
        }
        catch (DllNotFoundException)
        {
            return null;
        }

        return null;
    }

    /// <summary>Gives the calling OS thread <paramref name="name"/> as its OS-visible name, as the runtime's <c>Thread.Name</c> setter does.</summary>
    /// <returns><see langword="false"/> where this is not implemented (anything but Linux) or the call failed: the caller uses the setter.</returns>
    /// <remarks>
    /// Linux keeps 15 bytes (the runtime's PAL truncates to the same): the name is cut at the last whole UTF-8 character
    /// that fits. <c>pthread_setname_np</c> on the calling thread is one <c>prctl(PR_SET_NAME)</c>.
    /// </remarks>
    internal static unsafe bool TrySetCurrentName(string name)
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        const int MaxBytes = 15;
        byte* buffer = stackalloc byte[MaxBytes + 1];
        int written = 0;
        fixed (char* chars = name)
        {
            // ASCII, as generated names are, by a loop: the transcoder is hot code of its own (IL 1,494 and the helpers it
            // calls), which the tiered JIT compiles twice once a program has started 30 threads (issue 11, "Wave 13").
            int asciiEnd = name.Length < MaxBytes ? name.Length : MaxBytes;
            while (written < asciiEnd && chars[written] < 0x80)
            {
                buffer[written] = (byte)chars[written];
                written++;
            }

            if (written < asciiEnd)
            {
                written = Utf8Prefix(chars, name.Length, buffer, MaxBytes); // a non-ASCII character within the 15 bytes
            }
        }

        buffer[written] = 0;
        try
        {
            return Linux.pthread_setname_np(Linux.pthread_self(), buffer) == 0;
        }
        catch (EntryPointNotFoundException)
        {
            return false; // glibc before 2.34 keeps these in libpthread; musl has no libc.so.6
        }
        catch (DllNotFoundException)
        {
            return false;
        }
    }

    // As many whole characters of the name as fit in `capacity` bytes of UTF-8; a lone surrogate becomes U+FFFD.
    // Spans made from pointers: a string converted to a span goes through MemoryExtensions (System.Memory, see PlainText).
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static unsafe int Utf8Prefix(char* chars, int length, byte* buffer, int capacity)
    {
        System.Text.Unicode.Utf8.FromUtf16(new ReadOnlySpan<char>(chars, length), new Span<byte>(buffer, capacity), out _, out int written, replaceInvalidSequences: true, isFinalBlock: true);
        return written;
    }

    /// <summary>Gets the OS thread id of the process's main thread when it can be known from another thread.</summary>
    /// <remarks>On Linux the main thread's id is the process id; elsewhere it is read when the main thread first uses the library.</remarks>
    internal static long? MainThreadIdFromOtherThread() => OperatingSystem.IsLinux() ? Environment.ProcessId : null;

    private static volatile bool s_runtimeIdMissing;

    // Thread.CurrentOSThreadId: gettid on Linux, GetCurrentThreadId on Windows, pthread_threadid_np on Apple systems, the
    // ids the P/Invokes below read. The first parameter stands for the static member's type.
    [UnsafeAccessor(UnsafeAccessorKind.StaticMethod, Name = "get_CurrentOSThreadId")]
    private static extern ulong RuntimeCurrentOSThreadId(Thread? ignored);

    // glibc's file name first: the bare name "libc" makes the runtime try "libc.so" and "liblibc.so" in every library
    // directory before it finds the C library (ten failed opens per process, benchmarks/README.md "Start-up"); musl and
    // other C libraries, which have no libc.so.6, fall back to the bare name once.
    private static int s_linuxLibrary; // 0: libc.so.6, 1: libc

    private static int LinuxThreadId()
    {
        if (Volatile.Read(ref s_linuxLibrary) == 0)
        {
            try
            {
                return Linux.gettid();
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                Volatile.Write(ref s_linuxLibrary, 1);
            }
        }

        return LinuxAnyLibc.gettid();
    }

    // Without the GC transition: each is a few instructions around one system call that never blocks, never calls back
    // and never throws, and they run on the new thread's path to its body, the part of a start that 5,000 blocked
    // threads amplify tenfold (benchmarks/README.md, issue 11 "Wave 9" and "Wave 10").
    private static partial class Linux
    {
        [LibraryImport("libc.so.6", EntryPoint = "gettid")]
        [SuppressGCTransition]
        internal static partial int gettid();

        [LibraryImport("libc.so.6", EntryPoint = "pthread_self")]
        [SuppressGCTransition]
        internal static partial nuint pthread_self();

        // On the calling thread glibc's pthread_setname_np is a length check and one prctl(PR_SET_NAME).
        [LibraryImport("libc.so.6", EntryPoint = "pthread_setname_np")]
        [SuppressGCTransition]
        internal static unsafe partial int pthread_setname_np(nuint thread, byte* name);
    }

    private static partial class LinuxAnyLibc
    {
        [LibraryImport("libc", EntryPoint = "gettid")]
        [SuppressGCTransition]
        internal static partial int gettid();
    }

    private static partial class Windows
    {
        [LibraryImport("kernel32", EntryPoint = "GetCurrentThreadId")]
        internal static partial uint GetCurrentThreadId();
    }

    private static partial class Apple
    {
        [LibraryImport("libSystem.dylib", EntryPoint = "pthread_threadid_np")]
        internal static partial int pthread_threadid_np(IntPtr thread, out ulong threadId);
    }
}
