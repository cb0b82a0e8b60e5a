#!/usr/bin/env python3
"""Alternating A/B whole-process timer: wall (spawn to reap) and CPU (user+sys of the child, from wait4) per run.

Usage: ab.py RUNS WARMUP NAME=CMD [NAME=CMD ...]
The first pair is the baseline. Each round runs every command once, in an order rotated round by round, so drift and
neighbours' load hit every command alike; ratios are per round (command / baseline of the same round), and the median
with p25-p75 of those ratios is reported. Prints a table and writes TSV rows (name, round, wall_ms, cpu_ms) to
$AB_TSV when set. Each run's stdout must be "ok" and its exit code 0, or the run fails the whole measurement.
"""
import os, shlex, statistics, subprocess, sys, time

def run(cmd):
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = p.stdout.read()
    err = p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    wall = (time.perf_counter() - t0) * 1000
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0 or out.strip() != b"ok":
        sys.exit(f"ab.py: {cmd!r} exited {p.returncode}, stdout {out!r}, stderr {err[-400:]!r}")
    return wall, (ru.ru_utime + ru.ru_stime) * 1000

def q(xs, f):
    xs = sorted(xs)
    k = (len(xs) - 1) * f
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)

def main():
    runs, warmup = int(sys.argv[1]), int(sys.argv[2])
    cmds = [a.split("=", 1) for a in sys.argv[3:]]
    cmds = [(n, shlex.split(c)) for n, c in cmds]
    for _ in range(warmup):
        for _, c in cmds:
            run(c)
    res = {n: [] for n, _ in cmds}
    for r in range(runs):
        order = cmds[r % len(cmds):] + cmds[:r % len(cmds)]
        for n, c in order:
            res[n].append(run(c))
    tsv = os.environ.get("AB_TSV")
    if tsv:
        with open(tsv, "a") as f:
            for n, rows in res.items():
                for i, (w, c) in enumerate(rows):
                    f.write(f"{n}\t{i}\t{w:.2f}\t{c:.2f}\n")
    base = cmds[0][0]
    print(f"{'command':<28} {'wall ms med [min-max]':>24} {'cpu ms med':>11} {'wall ratio med [p25-p75]':>26} {'cpu ratio med [p25-p75]':>26}")
    for n, _ in cmds:
        w = [x[0] for x in res[n]]; c = [x[1] for x in res[n]]
        rw = [a[0] / b[0] for a, b in zip(res[n], res[base])]
        rc = [a[1] / b[1] for a, b in zip(res[n], res[base])]
        print(f"{n:<28} {statistics.median(w):>8.1f} [{min(w):.1f}-{max(w):.1f}]{'':>4} {statistics.median(c):>11.1f} "
              f"{statistics.median(rw):>9.3f} [{q(rw,.25):.3f}-{q(rw,.75):.3f}] {statistics.median(rc):>9.3f} [{q(rc,.25):.3f}-{q(rc,.75):.3f}]")

main()
