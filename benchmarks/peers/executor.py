"""Executor submit + completion, CPython peer of dotnet/ExecutorTwin (benchmarks/peers/run.sh).

usage: python3 executor.py N
Prints us per item: throughput with 1 submitter (N empty items submitted, then all waited for), with 8 submitters
(N/8 each, each waiting for its own), and the median latency of one submit + result() (N/10 samples). The pool has
ThreadPoolExecutor's default size, min(32, cores + 4).
"""
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor, wait


def empty():
    pass


def batch(pool, n, submitters):
    share = n // submitters
    go = threading.Barrier(submitters + 1)

    def submitter():
        go.wait()
        wait([pool.submit(empty) for _ in range(share)])

    threads = [threading.Thread(target=submitter) for _ in range(submitters)]
    for t in threads:
        t.start()
    go.wait()
    start = time.perf_counter_ns()
    for t in threads:
        t.join()
    return (time.perf_counter_ns() - start) / 1000.0 / (share * submitters)


def latency(pool, n):
    samples = []
    for _ in range(n):
        start = time.perf_counter_ns()
        pool.submit(empty).result()
        samples.append((time.perf_counter_ns() - start) / 1000.0)
    samples.sort()
    return samples[len(samples) // 2]


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    with ThreadPoolExecutor(max_workers=min(32, (os.cpu_count() or 1) + 4)) as pool:
        batch(pool, n // 10, 1), batch(pool, n // 10, 8), latency(pool, n // 100)  # warm up
        time.sleep(0.2)
        t1, t8, lat = batch(pool, n, 1), batch(pool, n, 8), latency(pool, n // 10)
    print(f"executor cpython tput1_us={t1:.2f} tput8_us={t8:.2f} latency_us={lat:.2f}")


if __name__ == "__main__":
    main()
