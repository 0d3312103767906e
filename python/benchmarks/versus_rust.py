"""numpy rows through the Python package against the Rust gradient example,
at the same size and level, in alternating runs (the machine's load drifts):

    cargo build --release --example gradient      # from the repository's root
    python versus_rust.py PATH/TO/examples/gradient [--size 4000] [--level default] [--reps 11]
                          [--threads N [N ...]] [--rows-per-call R [R ...]]

Both time the same span (writer created to file closed) and write the same
pixels to a file; prints each side's best and median MP/s and their ratios.
--threads N gives both N threads (the example's --threads, threads=N).
--rows-per-call R runs numpy_gradient.py with R rows per call (1, the
default: write_row per row; more: write_rows of R rows). With several
values of either, every combination is a program of its own in the same
alternation, and each numpy program is compared with the Rust example at
its thread count.
"""

import argparse
import pathlib
import re
import statistics
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent


def mps(cmd, cwd):
    out = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=True).stdout
    return float(re.search(r"([\d.]+) MP/s", out).group(1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("rust_example")
    ap.add_argument("--size", type=int, default=4000)
    ap.add_argument("--level", default="default")
    ap.add_argument("--reps", type=int, default=11)
    ap.add_argument("--threads", type=int, nargs="+", default=[1])
    ap.add_argument("--rows-per-call", type=int, nargs="+", default=[1])
    a = ap.parse_args()
    n = str(a.size)
    cmds = {}
    for t in a.threads:
        cmds[("Rust example", t)] = [a.rust_example, "--threads", str(t), n, n, "rust.png", a.level]
        for r in a.rows_per_call:
            label = "numpy rows, write_row" if r == 1 else f"numpy rows, write_rows of {r}"
            cmds[(label, t)] = [sys.executable, str(HERE / "numpy_gradient.py"), "pngstream", n, n, a.level,
                                "--threads", str(t), "--rows-per-call", str(r)]
    runs = {k: [] for k in cmds}
    same = True
    out = pathlib.Path
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(a.reps):
            for (label, t), cmd in cmds.items():
                runs[(label, t)].append(mps(cmd, tmp))
                if label != "Rust example":
                    same &= (out(tmp) / "rust.png").read_bytes() == (out(tmp) / "gradient_pngstream.png").read_bytes()
    threads = lambda t: f", {t} thread{'s' if t > 1 else ''}" if len(a.threads) > 1 or t > 1 else ""
    for (label, t), v in runs.items():
        print(f"{label}{threads(t)}: best {max(v):.1f} MP/s, median {statistics.median(v):.1f} MP/s ({', '.join(f'{x:.0f}' for x in v)})")
    for (label, t), v in runs.items():
        if label != "Rust example":
            rust = runs[("Rust example", t)]
            print(f"{label} / Rust{threads(t)}: best {max(v) / max(rust):.0%}, median {statistics.median(v) / statistics.median(rust):.0%}")
    print(f"identical files: {same}")

if __name__ == "__main__":
    main()
