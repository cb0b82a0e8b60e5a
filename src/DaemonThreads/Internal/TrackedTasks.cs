using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace DaemonThreads.Internal;

/// <summary>The continuation of a tracked task, as an extension method so that its delegate is closed over the task (one allocation).</summary>
internal static class TrackedTasks
{
    /// <summary>Removes the completed task from the registry of what blocks the exit, and wakes the exit if it waits.</summary>
    internal static void LeaveRegistry(this Task task) => ThreadRegistry.Default.Untrack(task);
}

/// <summary>Where <see cref="TrackedTaskTable.TryAdd"/> put a task.</summary>
internal enum TrackedIn
{
    /// <summary>Nowhere new: the task was in the table already (one entry).</summary>
    Already,

    /// <summary>Its home slot: nothing needs to remove it when it completes (a finished task is not counted, and its slot is taken over or swept).</summary>
    Slot,

    /// <summary>The overflow: it must be removed when it completes (a continuation does it).</summary>
    Overflow,
}

/// <summary>The set of tracked tasks (<see cref="ExitRegistry.Track(Task, string?)"/>) and their names, without a lock or an allocation on the common path.</summary>
/// <remarks>
/// <para>
/// Issue 11: a lock and a dictionary add on <c>Track</c>, a second lock and a remove on completion cost 120-205 ns over
/// a bare task; a continuation that removes the task when it completes costs 50 ns and 64 B on its own. Here each task has
/// one home slot in a fixed array, picked by its identity hash, and nothing runs when it completes: a finished task in a
/// slot is not counted or listed (every reader asks <see cref="Task.IsCompleted"/>), the next task whose home it is takes
/// the slot over, and a sweep after every full garbage collection empties the slots of finished tasks, so that a
/// finished task and its result are not kept alive past the next full collection (see <see cref="Sweeper"/>). Adding is
/// two interlocked operations on the slot and allocates nothing.
/// </para>
/// <para>
/// A task whose home slot holds another unfinished task goes to a small dictionary under the registry's lock (the
/// overflow), and a continuation removes it from there when it completes; with a few dozen tracked tasks at once that
/// is a collision now and then. A task is in at most one place, its home slot or the overflow (see <see cref="TryAdd"/>),
/// so that tracking it twice is one entry.
/// </para>
/// <para>
/// Counting and listing (the exit's wait and report, and tests) scan the array under the registry's lock: they are rare,
/// and the array is small. While the exit waits, the registry gives every unfinished task a continuation that wakes it
/// (<see cref="ThreadRegistry.BeginShutdown"/>).
/// </para>
/// </remarks>
internal sealed class TrackedTaskTable
{
    // A power of two: 8 KiB, allocated by the first Track only.
    private const int SlotCount = 512;

    // Held by a slot while its owner writes the name: readers skip it, another adder treats the slot as taken.
    private static readonly Task s_claimed = new TaskCompletionSource().Task;

    private readonly object _lock; // the registry's: guards _overflow, and the exit's readers hold it
    private Entry[]? _slots;
    private Dictionary<Task, string?>? _overflow;
    private int _overflowCount; // _overflow.Count, for the lock-free path; raised before the add (see AddToOverflow)

    /// <summary>Creates an empty table whose overflow is guarded by <paramref name="registryLock"/>.</summary>
    internal TrackedTaskTable(object registryLock) => _lock = registryLock;

    /// <summary>Adds <paramref name="task"/> with its name, and tells where it went (<see cref="TrackedIn.Already"/> when it is in the table already).</summary>
    /// <remarks>A full fence when it returns <see cref="TrackedIn.Slot"/> or <see cref="TrackedIn.Overflow"/>, after the task is visible to readers.</remarks>
    internal TrackedIn TryAdd(Task task, string? name)
    {
        Entry[] slots = _slots ?? CreateSlots();
        ref Entry home = ref slots[HomeIndex(task)];
        while (true)
        {
            Task? held = Volatile.Read(ref home.Task);
            if (ReferenceEquals(held, task))
            {
                return TrackedIn.Already;
            }

            if (held is not null && (ReferenceEquals(held, s_claimed) || !held.IsCompleted))
            {
                return AddToOverflow(task, name, ref home) ? TrackedIn.Overflow : TrackedIn.Already;
            }

            // Free, or held by a finished task: claim it, write the name, then publish the task (a full fence), so that
            // a reader that sees the task sees its name. A failed claim means another adder or the sweep moved first.
            if (ReferenceEquals(Interlocked.CompareExchange(ref home.Task, s_claimed, held), held))
            {
                home.Name = name;
                Interlocked.Exchange(ref home.Task, task);
                break;
            }
        }

        // Race: the same task may have gone to the overflow while this slot held another task that has since completed.
        // AddToOverflow raises the count before it looks at this slot, and the publication above comes before this read
        // (both full fences), so at least one of the two sees the other, and the overflow's side holds the lock.
        if (Volatile.Read(ref _overflowCount) != 0 && InOverflow(task))
        {
            Interlocked.CompareExchange(ref home.Task, null, task);
            return TrackedIn.Already;
        }

        return TrackedIn.Slot;
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

        // The name stays: whoever takes the slot next writes its own before it publishes its task.
        ref Entry home = ref slots[HomeIndex(task)];
        if (ReferenceEquals(Volatile.Read(ref home.Task), task) && ReferenceEquals(Interlocked.CompareExchange(ref home.Task, null, task), task))
        {
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

    /// <summary>Counts the unfinished tasks in the table. Call under the registry's lock.</summary>
    internal int Count()
    {
        Entry[]? slots = Volatile.Read(ref _slots);
        if (slots is null)
        {
            return 0;
        }

        int count = 0;
        for (int i = 0; i < slots.Length; i++)
        {
            if (IsUnfinished(Volatile.Read(ref slots[i].Task)))
            {
                count++;
            }
        }

        return Volatile.Read(ref _overflowCount) == 0 ? count : count + CountUnfinishedInOverflow();
    }

    // The overflow's loops are methods of their own, reached only when the overflow holds something: a method's
    // ReadyToRun fixups are resolved before it first runs, and the dictionary's enumerator types would make every exit
    // load System.Collections (0.4 % of a short program's instructions, benchmarks/README.md, issue 11 "Wave 8").
    [MethodImpl(MethodImplOptions.NoInlining)]
    private int CountUnfinishedInOverflow()
    {
        int count = 0;
        foreach (Task task in _overflow!.Keys)
        {
            if (!task.IsCompleted)
            {
                count++;
            }
        }

        return count;
    }

    /// <summary>Adds an entry per unfinished task in the table to <paramref name="unfinished"/>. Call under the registry's lock.</summary>
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
            if (IsUnfinished(task))
            {
                // The name is the task's only if the slot still holds it afterwards: a slot is taken over (and its name
                // written) only after its task finished, and a finished task is not tracked again.
                string? name = Volatile.Read(ref slots[i].Name);
                if (ReferenceEquals(Volatile.Read(ref slots[i].Task), task))
                {
                    unfinished.Add(Unfinished(task!, name));
                }
            }
        }

        if (Volatile.Read(ref _overflowCount) != 0)
        {
            AddUnfinishedInOverflow(unfinished);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void AddUnfinishedInOverflow(List<UnfinishedWork> unfinished)
    {
        foreach (var (task, name) in _overflow!)
        {
            if (!task.IsCompleted)
            {
                unfinished.Add(Unfinished(task, name));
            }
        }
    }

    /// <summary>Calls <paramref name="action"/> for every unfinished task in the table. Call under the registry's lock.</summary>
    internal void ForEachUnfinished(Action<Task> action)
    {
        Entry[]? slots = Volatile.Read(ref _slots);
        if (slots is null)
        {
            return;
        }

        for (int i = 0; i < slots.Length; i++)
        {
            Task? task = Volatile.Read(ref slots[i].Task);
            if (IsUnfinished(task))
            {
                action(task!);
            }
        }

        // The overflow's tasks have their continuation already.
    }

    /// <summary>Empties the slots of finished tasks, so that the table keeps none of them alive.</summary>
    internal void Sweep()
    {
        Entry[]? slots = Volatile.Read(ref _slots);
        if (slots is null)
        {
            return;
        }

        for (int i = 0; i < slots.Length; i++)
        {
            Task? task = Volatile.Read(ref slots[i].Task);
            if (task is not null && !ReferenceEquals(task, s_claimed) && task.IsCompleted)
            {
                // The name stays (see Remove); a task that took the slot meanwhile makes the exchange fail.
                Interlocked.CompareExchange(ref slots[i].Task, null, task);
            }
        }
    }

    // The task's id, not its identity hash: the runtime numbers tasks from one counter, so that consecutive tasks get
    // consecutive slots, and the id costs 8 ns on a new task where RuntimeHelpers.GetHashCode costs 35 (issue 11; the
    // default name uses the id anyway).
    private static int HomeIndex(Task task) => task.Id & (SlotCount - 1);

    private static bool IsUnfinished(Task? task) => task is not null && !ReferenceEquals(task, s_claimed) && !task.IsCompleted;

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
                Sweeper.Start(this);
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

    /// <summary>
    /// Sweeps the table's slots after every garbage collection that reaches it (once it is old, every full one): an object
    /// nothing references, whose finalizer sweeps and registers it for finalization again, as long as the table lives.
    /// </summary>
    /// <remarks>
    /// So a finished task stays referenced by its slot until the next task whose home it is takes it, or until the sweep
    /// after the next full collection, and it is collected by the one after. The sweep is 512 reads on the finalizer
    /// thread.
    /// </remarks>
    private sealed class Sweeper
    {
        // A weak handle, not a WeakReference: an unreachable Sweeper's WeakReference would be finalized in the same
        // collection, maybe first, and then lose its target.
        private GCHandle _table;

        private Sweeper(TrackedTaskTable table) => _table = GCHandle.Alloc(table, GCHandleType.Weak);

        ~Sweeper()
        {
            if (_table.Target is TrackedTaskTable table)
            {
                table.Sweep();
                GC.ReRegisterForFinalize(this);
            }
            else
            {
                _table.Free();
            }
        }

        internal static void Start(TrackedTaskTable table) => _ = new Sweeper(table);
    }
}
