"""Runs the comparison of python/README.md, each case in a fresh process
under `/usr/bin/time -v`, and prints one Markdown row per run: wall time,
peak RSS of the whole process, output size and, for numpy runs, the
encoding's own time and MP/s.

    python compare.py [--sizes 4000 16000] [--reps 3] [--only article|numpy]
                      [--aib-python PATH]

Runs in a temporary directory. The Python running this script runs every
case (it needs pngstream, numpy, Pillow, imageio and pypng installed);
pythonaibrain's case runs with --aib-python (a Python with pythonaibrain
installed), or is skipped without it. --reps repeats the 4000² runs and
keeps the fastest; 16000² runs once.
"""

import argparse
import os
import pathlib
import re
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent


def timed(cmd, cwd):
    r = subprocess.run(["/usr/bin/time", "-v", *cmd], cwd=cwd, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"{cmd} failed:\n{r.stdout}\n{r.stderr}")
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", r.stderr).group(1)
    secs = sum(float(p) * 60**i for i, p in enumerate(reversed(wall.split(":"))))
    rss_kib = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr).group(1))
    return secs, rss_kib, r.stdout


def row(cells):
    print("| " + " | ".join(cells) + " |", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[4000, 16000])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--only", choices=["article", "numpy"])
    ap.add_argument("--aib-python")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.only != "numpy":
            row(["program", "size", "wall time", "peak RSS", "output"])
            row(["---", "---:", "---:", "---:", "---:"])
            for n in args.sizes:
                for writer in ("pngstream", "pythonaibrain", "pypng"):
                    python = sys.executable
                    if writer == "pythonaibrain":
                        if not args.aib_python:
                            continue
                        python = args.aib_python
                    best = None
                    for _ in range(args.reps if n <= 4000 else 1):
                        secs, rss, _ = timed([python, str(HERE / "article.py"), writer, str(n), str(n)], tmp)
                        if best is None or secs < best[0]:
                            best = (secs, rss)
                    size = os.path.getsize(pathlib.Path(tmp) / "smooth_gradient.png")
                    row([f"article, {writer}", f"{n}²", f"{best[0]:.2f} s", f"{best[1] / 1024:.1f} MiB", f"{size:,} B"])
        if args.only != "article":
            row(["program", "size", "wall time", "peak RSS", "encoding", "output"])
            row(["---", "---:", "---:", "---:", "---:", "---:"])
            cases = [
                ("pngstream", "default"),
                ("pngstream", "fast"),
                ("pillow", "6"),
                ("pillow", "1"),
                ("imageio", None),
            ]
            for n in args.sizes:
                for encoder, level in cases:
                    cmd = [sys.executable, str(HERE / "numpy_gradient.py"), encoder, str(n), str(n)]
                    cmd += [level] if level else []
                    best = None
                    for _ in range(args.reps if n <= 4000 else 1):
                        secs, rss, out = timed(cmd, tmp)
                        enc = float(re.search(r"time (\S+) s", out).group(1))
                        if best is None or enc < best[2]:
                            best = (secs, rss, enc)
                    size = int(re.search(r"size (\d+) bytes", out).group(1))
                    name = f"numpy, {encoder}" + (f" level {level}" if level else "")
                    mps = n * n / best[2] / 1e6
                    row([name, f"{n}²", f"{best[0]:.2f} s", f"{best[1] / 1024:.1f} MiB", f"{best[2]:.3f} s, {mps:.0f} MP/s", f"{size:,} B"])


if __name__ == "__main__":
    main()
