namespace DaemonThreads;

// One submitted item and its task (CPython's _WorkItem and Future).
public sealed partial class DaemonThreadPool
{
    /// <summary>A queued call: pending, then running or cancelled, exactly once (CPython's <c>set_running_or_notify_cancel</c>).</summary>
    private abstract class WorkItem
    {
        private const int Pending = 0;
        private const int Running = 1;
        private const int Cancelled = 2;

        private static readonly ContextCallback s_invoke = static state => ((WorkItem)state!).Invoke();

        // The submitter's context, as Task.Run captures it; null when the submitter suppressed flow.
        private readonly ExecutionContext? _context = ExecutionContext.Capture();
        private int _state;

        /// <summary>Moves the item from pending to running; <see langword="false"/> when it was cancelled first.</summary>
        internal bool TryStart() => Interlocked.CompareExchange(ref _state, Running, Pending) == Pending;

        /// <summary>Cancels the item's task if the item has not started; <see langword="false"/> when it had (or was cancelled before).</summary>
        /// <remarks>Safe under the pool's lock: the task's continuations run asynchronously, so no user code runs here.</remarks>
        internal bool TryCancel()
        {
            if (Interlocked.CompareExchange(ref _state, Cancelled, Pending) != Pending)
            {
                return false;
            }

            SetCanceled();
            return true;
        }

        /// <summary>Runs the work on the calling worker, in the submitter's context, and keeps its outcome for <see cref="Publish"/>.</summary>
        internal void Run()
        {
            if (_context is null)
            {
                Invoke();
            }
            else
            {
                ExecutionContext.Run(_context, s_invoke, this);
            }
        }

        /// <summary>Completes the task with the outcome <see cref="Run"/> kept.</summary>
        internal abstract void Publish();

        /// <summary>Runs the work and keeps its result or exception; never throws.</summary>
        protected abstract void Invoke();

        /// <summary>Ends the task cancelled.</summary>
        protected abstract void SetCanceled();
    }

    private sealed class ActionWorkItem(Action work) : WorkItem
    {
        private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private Action? _work = work;
        private Exception? _failure;

        internal Task Task => _completion.Task;

        internal override void Publish()
        {
            if (_failure is null)
            {
                _completion.TrySetResult();
            }
            else
            {
                _completion.TrySetException(_failure);
            }
        }

        protected override void Invoke()
        {
            try
            {
                _work!();
            }
            catch (Exception e)
            {
                // The work's failure belongs to its task (CPython's Future.set_exception), never to ExceptHook.
                _failure = e;
            }
            finally
            {
                _work = null; // the queue no longer holds the item, but a caller may hold its task for long
            }
        }

        protected override void SetCanceled()
        {
            _work = null;
            _completion.TrySetCanceled();
        }
    }

    private sealed class FuncWorkItem<T>(Func<T> work) : WorkItem
    {
        private readonly TaskCompletionSource<T> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private Func<T>? _work = work;
        private T? _result;
        private Exception? _failure;

        internal Task<T> Task => _completion.Task;

        internal override void Publish()
        {
            if (_failure is null)
            {
                _completion.TrySetResult(_result!);
            }
            else
            {
                _completion.TrySetException(_failure);
            }

            _result = default;
        }

        protected override void Invoke()
        {
            try
            {
                _result = _work!();
            }
            catch (Exception e)
            {
                // The work's failure belongs to its task (CPython's Future.set_exception), never to ExceptHook.
                _failure = e;
            }
            finally
            {
                _work = null;
            }
        }

        protected override void SetCanceled()
        {
            _work = null;
            _completion.TrySetCanceled();
        }
    }
}
