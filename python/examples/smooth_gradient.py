from pngstream import StreamingWriter

width, height = 4000, 4000

with StreamingWriter("smooth_gradient.png", width=width, height=height, bpp=24) as sw:
    for y in range(height):
        row = []
        for x in range(width):
            r = int(x / width * 255)
            g = int(y / height * 255)
            b = int((1 - x / width) * 255)
            row.append((r, g, b))
        sw.write_row(row)
