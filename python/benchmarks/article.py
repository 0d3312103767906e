"""Runs the article's program (../examples/smooth_gradient.py, the very same
source) with another StreamingWriter or another size:

    python article.py pngstream|pythonaibrain|pypng WIDTH HEIGHT

The import line and the size line of the example are replaced, nothing
else. Writes smooth_gradient.png (pythonaibrain: BMP bytes under that name)
into the current directory.

- pythonaibrain: its StreamingWriter lives in pyaitk/CLSE/CLSE/TTI_art.py.
  The article's `from pyaitk.CLSE import StreamingWriter` runs the package's
  __init__ files, which import torch, scikit-learn and nltk (the `clse`
  extra, not installed by `pip install pythonaibrain`); the module is loaded
  here without them, so only its writer and numpy are measured.
- pypng: has no push-style writer (png.Writer.write pulls rows from an
  iterable); a small StreamingWriter class (below) runs it in a thread fed
  by write_row through a short queue, each row flattened as pypng takes
  rows. pypng's zlib calls release the GIL, so its compression overlaps the
  article's loop.
"""

import pathlib
import sys
import types

EXAMPLE = pathlib.Path(__file__).resolve().parent.parent / "examples" / "smooth_gradient.py"
IMPORT = "from pngstream import StreamingWriter"
SIZE = "width, height = 4000, 4000"


def load_pythonaibrain_writer():
    import site

    for root in map(pathlib.Path, site.getsitepackages()):
        if (root / "pyaitk").is_dir():
            break
    else:
        raise SystemExit("pythonaibrain is not installed (pip install pythonaibrain)")
    for name, path in [
        ("pyaitk", root / "pyaitk"),
        ("pyaitk.CLSE", root / "pyaitk" / "CLSE"),
        ("pyaitk.CLSE.CLSE", root / "pyaitk" / "CLSE" / "CLSE"),
    ]:
        module = types.ModuleType(name)
        module.__path__ = [str(path)]
        sys.modules[name] = module
    from pyaitk.CLSE.CLSE.TTI_art import StreamingWriter

    return StreamingWriter


PYPNG = '''
import itertools
import queue
import threading

import png


class StreamingWriter:
    """The article's writer over pypng, whose png.Writer pulls rows from an
    iterable: it pulls them in a thread, from a short queue that write_row
    fills, each row flattened as pypng takes rows."""

    def __init__(self, path, width, height, bpp=24):
        self.file = open(path, "wb")
        self.rows = queue.Queue(maxsize=4)
        writer = png.Writer(width, height, greyscale=False, alpha=bpp == 32)
        self.thread = threading.Thread(target=writer.write, args=(self.file, iter(self.rows.get, None)))

    def __enter__(self):
        self.thread.start()
        return self

    def write_row(self, row):
        self.rows.put(itertools.chain.from_iterable(row))

    def __exit__(self, *exc):
        self.rows.put(None)
        self.thread.join()
        self.file.close()
'''


def main():
    writer, width, height = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    source = EXAMPLE.read_text()
    assert source.startswith(IMPORT + "\n") and SIZE in source
    source = source.replace(SIZE, f"width, height = {width}, {height}")
    env = {"__name__": "__main__"}
    if writer == "pngstream":
        pass
    elif writer == "pythonaibrain":
        env["StreamingWriter"] = load_pythonaibrain_writer()
        source = source.replace(IMPORT, "")
    elif writer == "pypng":
        exec(PYPNG, env)
        source = source.replace(IMPORT, "")
    else:
        raise SystemExit(f"unknown writer {writer!r}")
    exec(compile(source, str(EXAMPLE), "exec"), env)


if __name__ == "__main__":
    main()
