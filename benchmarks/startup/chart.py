"""Writes benchmarks/startup.svg from results/startup.tsv (ab.py's AB_TSV rows: name, round, wall_ms, cpu_ms) of one
run of benchmarks/startup/run.sh: per program, the median wall time (bar), min-max (whisker) and median CPU (marker).
Hand-made SVG, standard library only. usage: python3 chart.py startup.tsv OUT.svg"""
import statistics
import sys

rows = {}
for line in open(sys.argv[1], encoding="utf-8"):
    if line.startswith("#") or not line.strip():
        continue
    name, _, wall, cpu = line.rstrip("\n").split("\t")
    rows.setdefault(name, []).append((float(wall), float(cpu)))
labels = list(rows)
wall = {k: [w for w, _ in v] for k, v in rows.items()}
cpu = {k: [c for _, c in v] for k, v in rows.items()}
width, bar_h, gap, left, top = 760, 30, 16, 200, 60
height = top + len(labels) * (bar_h + gap) + 60
hi = max(statistics.quantiles(wall[k], n=10)[-1] for k in labels) if all(len(wall[k]) > 1 for k in labels) else max(max(v) for v in wall.values())
scale = (width - left - 120) / hi
out = [
    f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="13">',
    f'<rect width="{width}" height="{height}" fill="white"/>',
    f'<text x="{width / 2}" y="24" text-anchor="middle" font-size="16" font-weight="bold">Start-up: a program that starts and joins one thread, whole process (ms, lower is better)</text>',
    f'<text x="{width / 2}" y="44" text-anchor="middle" fill="#555">bar: median wall of {len(wall[labels[0]])} runs (spawn to reap); whisker: p10-p90; black tick: median CPU (user+sys); one run of benchmarks/startup/run.sh</text>',
]
for i, k in enumerate(labels):
    y = top + i * (bar_h + gap)
    med = statistics.median(wall[k])
    q = statistics.quantiles(wall[k], n=10) if len(wall[k]) > 1 else [med] * 9
    lo, hi_ = q[0], q[-1]
    c = statistics.median(cpu[k])
    colour = "#2b6cb0" if k.startswith("DaemonThreads") else ("#718096" if k.startswith("raw") else "#c05621")
    out.append(f'<text x="{left - 10}" y="{y + bar_h / 2 + 5}" text-anchor="end">{k}</text>')
    out.append(f'<rect x="{left}" y="{y}" width="{med * scale:.1f}" height="{bar_h}" fill="{colour}"/>')
    out.append(f'<line x1="{left + lo * scale:.1f}" x2="{left + min(hi_, hi) * scale:.1f}" y1="{y + bar_h / 2}" y2="{y + bar_h / 2}" stroke="#222" stroke-width="1.5"/>')
    out.append(f'<line x1="{left + c * scale:.1f}" x2="{left + c * scale:.1f}" y1="{y + 3}" y2="{y + bar_h - 3}" stroke="black" stroke-width="3"/>')
    out.append(f'<text x="{left + max(med, min(hi_, hi)) * scale + 8:.1f}" y="{y + bar_h / 2 + 5}">{med:.1f} ms (CPU {c:.1f})</text>')
out.append("</svg>")
open(sys.argv[2], "w", encoding="utf-8").write("\n".join(out) + "\n")
