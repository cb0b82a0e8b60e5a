using System.Globalization;
using DaemonThreads.Internal;

namespace DaemonThreads;

// Executor.map: submit everything now, hand the results back in order.
public sealed partial class DaemonThreadPool
{
    /// <summary>Submits <paramref name="selector"/> for every element of <paramref name="source"/> now, and returns the results in source order.</summary>
    /// <typeparam name="TSource">The type of the elements.</typeparam>
    /// <typeparam name="TResult">The type of the results.</typeparam>
    /// <param name="selector">The work to run for each element.</param>
    /// <param name="source">The elements; enumerated to the end before this method returns.</param>
    /// <param name="timeout">
    /// How long, from this call, the results may take in total; <see langword="null"/> (or
    /// <see cref="Timeout.InfiniteTimeSpan"/>) waits for ever.
    /// </param>
    /// <returns>
    /// The results, in the order of <paramref name="source"/>, each waited for when it is reached. It can be enumerated
    /// once, by one thread at a time.
    /// </returns>
    /// <exception cref="ArgumentNullException"><paramref name="selector"/> or <paramref name="source"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is negative and not <see cref="Timeout.InfiniteTimeSpan"/>.</exception>
    /// <exception cref="InvalidOperationException">The pool was shut down, or the exit sequence has begun (the items already submitted are cancelled).</exception>
    /// <remarks>
    /// <para>
    /// Python equivalent: <c>executor.map(fn, iterable, timeout=None)</c>. Every item is submitted here, not when the
    /// enumeration starts. While enumerating: a <see cref="TimeoutException"/> is thrown when <paramref name="timeout"/>
    /// has passed before the next result is ready (Python's <c>TimeoutError</c>); an item's exception is rethrown as
    /// itself, not wrapped, when that item is reached; an item cancelled before it ran throws
    /// <see cref="TaskCanceledException"/> (Python's <c>CancelledError</c>). When the enumeration ends early (a
    /// <see langword="break"/>, an exception, disposing the enumerator), the items that have not started are cancelled,
    /// as Python's result iterator does.
    /// </para>
    /// <para>
    /// Negative timeouts are rejected (.NET convention) rather than treated as already passed as Python does. If
    /// <paramref name="source"/> or a submit throws, the items already submitted are cancelled; CPython leaves them
    /// running with no one to see their results.
    /// </para>
    /// </remarks>
    public IEnumerable<TResult> Map<TSource, TResult>(Func<TSource, TResult> selector, IEnumerable<TSource> source, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(selector);
        ArgumentNullException.ThrowIfNull(source);
        if (timeout is { } bound)
        {
            DaemonThread.ValidateTimeout(bound, nameof(timeout));
        }

        // Measured from the call, as Python's end_time.
        Deadline deadline = timeout is { } t ? Deadline.After(t) : Deadline.Infinite;
        var items = new List<FuncWorkItem<TResult>>();
        try
        {
            foreach (TSource element in source)
            {
                var item = new FuncWorkItem<TResult>(() => selector(element));
                Enqueue(item);
                items.Add(item);
            }
        }
        catch
        {
            CancelFrom(items, 0);
            throw;
        }

        return MapResults(items, deadline, new MapState());
    }

    private static IEnumerable<TResult> MapResults<TResult>(List<FuncWorkItem<TResult>> items, Deadline deadline, MapState state)
    {
        // Python's map returns a generator, which runs once: a second enumeration would wait for items already handed
        // out or cancelled, so it is refused.
        if (Interlocked.Exchange(ref state.Started, 1) != 0)
        {
            throw new InvalidOperationException("the results of Map can be enumerated only once, as Python's map iterator: keep them in a list (ToList()) to read them again.");
        }

        int next = 0;
        try
        {
            for (; next < items.Count; next++)
            {
                Task<TResult> task = items[next].Task;

                // Bounded by the Map deadline, or deliberately infinite without one. WaitAny does not throw for a faulted
                // task; GetResult below rethrows the item's own exception, unwrapped.
                if (!task.IsCompleted && Task.WaitAny([task], deadline.RemainingMilliseconds()) < 0)
                {
                    throw new TimeoutException(
                        "the result of item " + next.ToString(CultureInfo.InvariantCulture) +
                        " of Map was not ready before the timeout, measured from the call to Map, passed. The items not yet started are cancelled; pass a longer timeout, or none.");
                }

                yield return task.GetAwaiter().GetResult();
            }
        }
        finally
        {
            // Python's result_iterator finally block (and _result_or_cancel for the item that timed out).
            CancelFrom(items, next);
        }
    }

    private static void CancelFrom<TResult>(List<FuncWorkItem<TResult>> items, int start)
    {
        for (int i = start; i < items.Count; i++)
        {
            items[i].TryCancel();
        }
    }

    /// <summary>Whether the results of one Map call have been enumerated.</summary>
    private sealed class MapState
    {
        internal int Started;
    }
}
