"""Start + join of an empty thread, median per thread (CPython peer of ExitHarness 'startjoin').

usage: python3 startjoin.py N [daemon]
"""
import sys
import threading
import time


def empty():
    pass


def once(daemon):
    t = threading.Thread(target=empty, daemon=daemon)
    t.start()
    t.join()


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    daemon = len(sys.argv) > 2 and sys.argv[2] == "daemon"
    for _ in range(max(1, n // 10)):  # warm up with a tenth of the work, as the .NET harness does
        once(daemon)
    time.sleep(0.2)
    samples = []
    clock = time.perf_counter_ns
    for _ in range(n):
        start = clock()
        once(daemon)
        samples.append((clock() - start) / 1000.0)
    samples.sort()
    print(f"startjoin cpython n={n} median_us={samples[n // 2]:.1f} p10_us={samples[n // 10]:.1f} p90_us={samples[n * 9 // 10]:.1f}")


if __name__ == "__main__":
    main()
