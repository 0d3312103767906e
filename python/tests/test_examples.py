"""The article's program (examples/smooth_gradient.py) and its numpy version
write exactly the article's pixels, as Python computes them:
r = int(x/width*255), g = int(y/height*255), b = int((1 - x/width)*255)."""

import pathlib
import subprocess
import sys

import numpy as np
from PIL import Image

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"
ARTICLE_SIZE = "width, height = 4000, 4000"


def formula(width, height):
    r = np.array([int(x / width * 255) for x in range(width)], dtype=np.uint8)
    g = np.array([int(y / height * 255) for y in range(height)], dtype=np.uint8)
    b = np.array([int((1 - x / width) * 255) for x in range(width)], dtype=np.uint8)
    img = np.empty((height, width, 3), dtype=np.uint8)
    img[:, :, 0] = r[None, :]
    img[:, :, 1] = g[:, None]
    img[:, :, 2] = b[None, :]
    return img


def run(args, cwd):
    subprocess.run([sys.executable, *args], cwd=cwd, check=True, timeout=300)


def test_article_program_differs_only_in_its_import():
    lines = (EXAMPLES / "smooth_gradient.py").read_text().splitlines()
    assert lines[0] == "from pngstream import StreamingWriter"
    assert not any("import" in line for line in lines[1:])
    assert ARTICLE_SIZE in lines


def test_article_program_writes_the_formula(tmp_path):
    # The example's own code, at a smaller, odd size (the full 4000 x 4000
    # takes seconds of pure Python per run).
    source = (EXAMPLES / "smooth_gradient.py").read_text()
    (tmp_path / "small.py").write_text(source.replace(ARTICLE_SIZE, "width, height = 641, 203"))
    run(["small.py"], tmp_path)
    im = Image.open(tmp_path / "smooth_gradient.png")
    assert im.mode == "RGB" and im.size == (641, 203)
    assert (np.asarray(im) == formula(641, 203)).all()


def test_numpy_version_writes_the_formula_at_4000(tmp_path):
    run([str(EXAMPLES / "smooth_gradient_numpy.py"), "4000", "4000", "g.png"], tmp_path)
    assert (np.asarray(Image.open(tmp_path / "g.png")) == formula(4000, 4000)).all()


def test_numpy_version_at_odd_sizes(tmp_path):
    for w, h in [(1, 1), (641, 203), (7, 1000)]:
        run([str(EXAMPLES / "smooth_gradient_numpy.py"), str(w), str(h), "g.png"], tmp_path)
        assert (np.asarray(Image.open(tmp_path / "g.png")) == formula(w, h)).all()
