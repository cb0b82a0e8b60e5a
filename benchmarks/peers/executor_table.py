"""Prints the executor table of run.sh: per row and measure, median [min-max] us per item over the rounds, and the
median over rounds of (row / .NET Task.Run of the same round). usage: python3 executor_table.py executor.tsv"""
import statistics
import sys

rows = {}
for line in open(sys.argv[1], encoding="utf-8"):
    if line.startswith("#") or not line.strip():
        continue
    label, *vals = line.rstrip("\n").split("\t")
    rows.setdefault(label, []).append([float(v) for v in vals])
base = next(iter(rows))
names = ["1 submitter, us/item", "8 submitters, us/item", "latency, us"]
print("| row | " + " | ".join(f"{n} median [min-max] | ratio vs Task.Run" for n in names) + " |")
print("|---|" + "---:|---:|" * len(names))
for label, runs in rows.items():
    cells = []
    for i in range(len(names)):
        v = [r[i] for r in runs]
        ratio = statistics.median(r[i] / b[i] for r, b in zip(runs, rows[base]))
        cells.append(f"{statistics.median(v):.2f} [{min(v):.2f}-{max(v):.2f}] | {ratio:.2f}")
    print(f"| {label} | " + " | ".join(cells) + " |")
