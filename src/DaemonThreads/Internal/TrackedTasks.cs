using System.Runtime.CompilerServices;

namespace DaemonThreads.Internal;

/// <summary>The continuation of a tracked task, as an extension method so that its delegate is closed over the task (one allocation).</summary>
internal static class TrackedTasks
{
    /// <summary>Removes the completed task from the registry of what blocks the exit.</summary>
    internal static void LeaveRegistry(this Task task) => ThreadRegistry.Default.Untrack(task);
}

/// <summary>The set of tracked tasks (<see cref="ExitRegistry.Track(Task, string?)"/>) and their names, without a lock on the common path.</summary>
/// <remarks>
/// <para>
/// Issue 11: a lock and a dictionary add on <c>Track</c>, a second lock and a remove on completion cost 120-205 ns over
/// a bare task. Here each task has one home slot in a fixed array, picked by its identity hash: adding is one
/// compare-and-swap into an empty home slot, removing one exchange back to <see langword="null"/>, and neither allocates
/// nor takes a lock. A task whose home slot holds another task goes to a small dictionary under the registry's lock (the
/// overflow); with a few dozen tracked tasks at once that is a collision now and then.
/// </para>
/// <para>
/// Counting and listing (the exit's wait and report, and tests) scan the array under the registry's lock: they are rare,
/// and the array is small. A task is in at most one place, its home slot or the overflow (see <see cref="TryAdd"/>), so
/// that tracking it twice is one entry.
/// </para>
/// </remarks>
internal sealed class TrackedTaskTable
{
    // A power of two: 8 KiB, allocated by the first Track only.
    private const int SlotCount = 512;

    private readonly object _lock; // the registry's: guards _overflow, and the exit's readers hold it
    private Entry[]? _slots;
    private Dictionary<Task, string?>? _overflow;
    private int _overflowCount; // _overflow.Count, for the lock-free path; raised before the add (see AddToOverflow)

    /// <summary>Creates an empty table whose overflow is guarded by <paramref name="registryLock"/>.</summary>
    internal TrackedTaskTable(object registryLock) => _lock = registryLock;

    /// <summary>Adds <paramref name="task"/> with its name; <see langword="false"/> when it is in the table already (one entry, one continuation).</summary>
    internal bool TryAdd(Task task, string? name)
    {
        Entry[] slots = _slots ?? CreateSlots();
        ref Entry home = ref slots[RuntimeHelpers.GetHashCode(task) & (SlotCount - 1)];
        Task? held = Interlocked.CompareExchange(ref home.Task, task, null);
        if (held is null)
        {
            // Race: the same task may have gone to the overflow while this slot held another task that has since
            // completed. AddToOverflow raises the count before it looks at this slot, and the CAS above comes before this
            // read (both full fences), so at least one of the two sees the other, and the overflow's side holds the lock.
            if (Volatile.Read(ref _overflowCount) != 0 && InOverflow(task))
            {
                Volatile.Write(ref home.Task, null);
                return false;
            }

            if (name is not null)
            {
                // A full fence, so that a reader that sees the point of no return's flag unset by then (ThreadRegistry.Track)
                // also sees the name.
                Interlocked.Exchange(ref home.Name, name);
            }

            return true;
        }

        return !ReferenceEquals(held, task) && AddToOverflow(task, name, ref home);
    }

    /// <summary>Removes <paramref name="task"/>; <see langword="false"/> when it was not in the table.</summary>
    /// <remarks>A full fence when it returns <see langword="true"/>, so that the caller's next read is ordered after the removal.</remarks>
    internal bool Remove(Task task)
    {
        Entry[]? slots = Volatile.Read(ref _slots);
        if (slots is null)
        {
            return false;
        }

        ref Entry home = ref slots[RuntimeHelpers.GetHashCode(task) & (SlotCount - 1)];
        if (ReferenceEquals(Volatile.Read(ref home.Task), task))
        {
            // Only this task's one continuation frees its slot, so nobody else writes it now. The name goes first: once
            // the task is gone, the next owner writes its own. Race: a reader between the two writes sees the task without
            // its name (it is completing at that very moment) and gives it the default name.
            home.Name = null;
            Interlocked.Exchange(ref home.Task, null);
            return true;
        }

        lock (_lock)
        {
            if (_overflow is null || !_overflow.Remove(task))
            {
                return false;
            }

            Volatile.Write(ref _overflowCount, _overflow.Count);
            return true;
        }
    }

    /// <summary>Counts the tasks in the table. Call under the registry's lock.</summary>
    internal int Count()
    {
        Entry[]? slots = Volatile.Read(ref _slots);
        if (slots is null)
        {
            return 0;
        }

        int count = _overflow!.Count;
        for (int i = 0; i < slots.Length; i++)
        {
            if (Volatile.Read(ref slots[i].Task) is not null)
            {
                count++;
            }
        }

        return count;
    }

    /// <summary>Adds an entry per task in the table to <paramref name="unfinished"/>. Call under the registry's lock.</summary>
    internal void AddUnfinished(List<UnfinishedWork> unfinished)
    {
        Entry[]? slots = Volatile.Read(ref _slots);
        if (slots is null)
        {
            return;
        }

        for (int i = 0; i < slots.Length; i++)
        {
            Task? task = Volatile.Read(ref slots[i].Task);
            if (task is not null)
            {
                unfinished.Add(Unfinished(task, Volatile.Read(ref slots[i].Name)));
            }
        }

        foreach (var (task, name) in _overflow!)
        {
            unfinished.Add(Unfinished(task, name));
        }
    }

    private static UnfinishedWork Unfinished(Task task, string? name) =>
        new(ExitWorkKind.Task, name ?? "Task-" + PlainText.Decimal(task.Id), task: task);

    private Entry[] CreateSlots()
    {
        lock (_lock)
        {
            // Room for a few collisions at once, so that the overflow does not allocate while a few dozen tasks are tracked.
            _overflow ??= new Dictionary<Task, string?>(16);
            Entry[]? slots = _slots;
            if (slots is null)
            {
                slots = new Entry[SlotCount];
                Volatile.Write(ref _slots, slots);
            }

            return slots;
        }
    }

    private bool InOverflow(Task task)
    {
        lock (_lock)
        {
            return _overflow!.ContainsKey(task);
        }
    }

    private bool AddToOverflow(Task task, string? name, ref Entry home)
    {
        lock (_lock)
        {
            // Raised first (a full fence), then the home slot is read: see the race in TryAdd.
            Interlocked.Increment(ref _overflowCount);
            if (ReferenceEquals(Volatile.Read(ref home.Task), task) || !_overflow!.TryAdd(task, name))
            {
                Volatile.Write(ref _overflowCount, _overflow!.Count);
                return false;
            }

            Volatile.Write(ref _overflowCount, _overflow.Count);
            return true;
        }
    }

    /// <summary>A home slot: the task that holds it and the name it was tracked with.</summary>
    private struct Entry
    {
        public Task? Task;
        public string? Name;
    }
}
