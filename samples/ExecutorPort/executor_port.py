# The Python program that Program.cs ports (run: python3 samples/ExecutorPort/executor_port.py).
# A two-worker ThreadPoolExecutor fetches three pages with map(), then queues three more with submit() and lets
# main() end without waiting: the interpreter's exit joins the workers, so the last three still run, and the
# atexit hook runs after them.
import atexit
import threading
import time
from concurrent.futures import ThreadPoolExecutor


def fetch(n):
    time.sleep(0.2)  # stands for the network
    print(f"fetched page {n} on {threading.current_thread().name}", flush=True)
    return n * 100


def main():
    atexit.register(lambda: print("at exit: every queued fetch has run", flush=True))
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="fetch")
    sizes = pool.map(fetch, range(3))
    print("sizes:", ", ".join(str(s) for s in sizes), flush=True)
    for n in range(3, 6):
        pool.submit(fetch, n)  # not waited for here
    print("main: done, three fetches still queued", flush=True)


if __name__ == "__main__":
    main()
