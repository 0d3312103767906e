"""numpy rows through the Python package against the Rust gradient example,
at the same size and level, in alternating runs (the machine's load drifts):

    cargo build --release --example gradient      # from the repository's root
    python versus_rust.py PATH/TO/examples/gradient [--size 4000] [--level default] [--reps 11]

Both time the same span (writer created to file closed) and write the same
pixels to a file; prints each side's best and median MP/s and their ratios.
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
    a = ap.parse_args()
    n = str(a.size)
    rust, py = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(a.reps):
            rust.append(mps([a.rust_example, n, n, "rust.png", a.level], tmp))
            py.append(mps([sys.executable, str(HERE / "numpy_gradient.py"), "pngstream", n, n, a.level], tmp))
        same = (pathlib.Path(tmp) / "rust.png").read_bytes() == (pathlib.Path(tmp) / "gradient_pngstream.png").read_bytes()
    for name, v in (("Rust example", rust), ("numpy rows", py)):
        print(f"{name}: best {max(v):.1f} MP/s, median {statistics.median(v):.1f} MP/s ({', '.join(f'{x:.0f}' for x in v)})")
    print(f"numpy / Rust: best {max(py) / max(rust):.0%}, median {statistics.median(py) / statistics.median(rust):.0%}")
    print(f"identical files: {same}")


if __name__ == "__main__":
    main()
