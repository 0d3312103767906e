"""The article's gradient with numpy rows: the same pixels as
smooth_gradient.py, computed a row at a time in numpy and written without a
Python loop over pixels.

    python smooth_gradient_numpy.py [WIDTH HEIGHT [OUT.png]]
"""

import sys

import numpy as np

from pngstream import StreamingWriter

width, height = (int(sys.argv[1]), int(sys.argv[2])) if len(sys.argv) > 2 else (4000, 4000)
out = sys.argv[3] if len(sys.argv) > 3 else "smooth_gradient_numpy.png"

# Red and blue depend only on x: one row holds them, green is set per row.
# float64 division and truncation toward zero, as Python's int(x/width*255).
x = np.arange(width) / width
row = np.empty((width, 3), dtype=np.uint8)
row[:, 0] = (x * 255).astype(np.uint8)
row[:, 2] = ((1 - x) * 255).astype(np.uint8)

with StreamingWriter(out, width=width, height=height, bpp=24) as sw:
    for y in range(height):
        row[:, 1] = int(y / height * 255)
        sw.write_row(row)
