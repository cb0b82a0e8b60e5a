#!/usr/bin/env python3
# Whole-process A/B: runs each command under chrt -f 50 (SCHED_FIFO, so that other load cannot preempt it), alternating
# them with the order reversed every round after one warm-up round; prints each median wall time and the median of its
# per-round ratio to the first command. Usage: benchmarks/altwall.py ROUNDS "CMD A" "CMD B" ... (see README, wave 2).
# Alternates commands (A/B order rotated each round) and prints the median wall and the median of per-round ratios to the first.
import subprocess, time, sys, statistics
runs = int(sys.argv[1]); cmds = sys.argv[2:]
walls = [[] for _ in cmds]
for r in range(runs + 1):
    order = list(range(len(cmds)))
    if r % 2: order.reverse()
    for i in order:
        t0 = time.monotonic_ns()
        subprocess.run(["chrt", "-f", "50"] + cmds[i].split(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if r > 0: walls[i].append((time.monotonic_ns() - t0) / 1e6)
for i, c in enumerate(cmds):
    ratios = sorted(w / b for w, b in zip(walls[i], walls[0]))
    print("%-90s median %.0f ms  ratio-to-first median %.3f [p25 %.3f p75 %.3f]" % (c[-90:], statistics.median(walls[i]), statistics.median(ratios), ratios[len(ratios)//4], ratios[len(ratios)*3//4]))
