"""Writes benchmarks/startjoin.svg from the results file of run.sh (hand-made SVG, standard library only).

usage: python3 chart.py RESULTS.tsv OUT.svg   (RESULTS.tsv: label<TAB>median_us per line, one line per round)
"""
import statistics
import sys
from collections import OrderedDict


def main():
    rows = OrderedDict()
    with open(sys.argv[1], encoding="utf-8") as f:
        for line in f:
            if not line.strip() or line.startswith("#"):
                continue
            label, value = line.rstrip("\n").split("\t")
            rows.setdefault(label, []).append(float(value))
    labels = list(rows)
    medians = [statistics.median(rows[k]) for k in labels]
    lows = [min(rows[k]) for k in labels]
    highs = [max(rows[k]) for k in labels]
    width, bar_h, gap, left, top = 720, 34, 18, 190, 56
    height = top + len(labels) * (bar_h + gap) + 50
    scale = (width - left - 110) / max(highs)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="13">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{width / 2}" y="24" text-anchor="middle" font-size="16" font-weight="bold">Start + join of an empty thread (median µs per thread, lower is better)</text>',
        f'<text x="{width / 2}" y="42" text-anchor="middle" fill="#555">bar: median of {len(rows[labels[0]])} process runs; whisker: min-max; one run of benchmarks/peers/run.sh</text>',
    ]
    colors = ["#4c72b0", "#55a868", "#c44e52", "#dd8452", "#8172b3", "#937860"]
    for i, label in enumerate(labels):
        y = top + i * (bar_h + gap)
        w = medians[i] * scale
        out.append(f'<text x="{left - 8}" y="{y + bar_h / 2 + 4}" text-anchor="end">{label}</text>')
        out.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{colors[i % len(colors)]}"/>')
        x1, x2, ym = left + lows[i] * scale, left + highs[i] * scale, y + bar_h / 2
        out.append(f'<line x1="{x1:.1f}" y1="{ym}" x2="{x2:.1f}" y2="{ym}" stroke="black"/>')
        out.append(f'<line x1="{x1:.1f}" y1="{ym - 6}" x2="{x1:.1f}" y2="{ym + 6}" stroke="black"/>')
        out.append(f'<line x1="{x2:.1f}" y1="{ym - 6}" x2="{x2:.1f}" y2="{ym + 6}" stroke="black"/>')
        out.append(f'<text x="{x2 + 6:.1f}" y="{ym + 4}">{medians[i]:.1f} µs</text>')
    axis_y = top + len(labels) * (bar_h + gap)
    out.append(f'<line x1="{left}" y1="{top - 6}" x2="{left}" y2="{axis_y}" stroke="#333"/>')
    out.append(f'<text x="{left}" y="{axis_y + 18}" fill="#555">0</text>')
    out.append("</svg>")
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
