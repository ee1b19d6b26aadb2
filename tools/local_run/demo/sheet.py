"""out/contact-sheet.png: the thumbnails the tests check, as a person sees them.

One row per source format and mode of the imaging grid (JPEG, PNG, WebP, AVIF, HEIF, TIFF, GIF)
and one column per EXIF orientation: every thumbnail should show its block top-left and its
transparent parts as checkerboard. Then the rows for the renditions: a cover box with attention
gravity (the red disc, off-centre in the source, should be in every tile), a cover box with the
object's focal point on the blue disc, and the eight frames of an animated GIF's thumbnail (the
bar should turn).
"""

from __future__ import annotations

from collections.abc import Callable
from io import BytesIO
from pathlib import Path

from PIL import Image, ImageDraw

from local_run.inputs.grid import GRID_SOURCES, MORE_SOURCES, decode, source_bytes
from local_run.inputs.samples import encode, spinner_gif, store_with_orientation, two_discs

Tile = Callable[[int, int], Image.Image]  # (orientation or frame 1-8, side) -> a thumbnail


def contact_sheet(path: Path, cell: int = 112) -> Path:
    rows = _rows()
    label_width, header = 150, 24
    sheet = Image.new("RGB", (label_width + 8 * cell, header + len(rows) * cell), "white")
    draw = ImageDraw.Draw(sheet)
    for column in range(8):
        draw.text((label_width + column * cell + 4, 6), f"orientation {column + 1}", fill="black")
    for row, (label, tile) in enumerate(rows):
        top = header + row * cell
        draw.text((4, top + cell // 2 - 6), label, fill="black")
        for column in range(8):
            background = _checkerboard((cell - 8, cell - 8))
            background.alpha_composite(tile(column + 1, cell - 8).convert("RGBA"), (0, 0))
            sheet.paste(background.convert("RGB"), (label_width + column * cell + 4, top + 4))
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path)
    return path


def _rows() -> list[tuple[str, Tile]]:
    rows: list[tuple[str, Tile]] = [(f"{f} {m}", _grid_tile(f, m)) for f, m in GRID_SOURCES + MORE_SOURCES]
    rows.append(("cover, attention", _cover_tile(focal_point=None)))
    rows.append(("cover, focal point", _cover_tile(focal_point=(0.85, 0.5))))
    rows.append(("animated GIF, frames", _frame_tile))
    return rows


def _thumbnails(data: bytes, side: int, fit: str = "inside", **options: object) -> list:
    from create_thumbnail.config import ALL_SOURCE_FORMATS, Box  # the function's code, only to draw
    from create_thumbnail.imaging import make_thumbnails

    return make_thumbnails(data, [Box(side, side, fit)], 50_000_000, source_formats=ALL_SOURCE_FORMATS, **options)


def _grid_tile(image_format: str, mode: str) -> Tile:
    def tile(orientation: int, side: int) -> Image.Image:
        if image_format == "GIF" and orientation != 1:
            return Image.new("RGBA", (side, side), (255, 255, 255, 255))  # a GIF has no EXIF
        [thumbnail] = _thumbnails(source_bytes(mode, (300, 200), image_format, orientation), side)
        return decode(thumbnail.data)

    return tile


def _cover_tile(focal_point: tuple[float, float] | None) -> Tile:
    def tile(orientation: int, side: int) -> Image.Image:
        stored, exif = store_with_orientation(two_discs(), orientation)
        data = encode(stored, "JPEG", quality=92, **({"exif": exif} if orientation != 1 else {}))
        [thumbnail] = _thumbnails(data, side, "cover", gravity="attention", focal_point=focal_point)
        return decode(thumbnail.data)

    return tile


def _frame_tile(frame: int, side: int) -> Image.Image:
    from create_thumbnail.config import Encoding

    [thumbnail] = _thumbnails(spinner_gif(), side, encoding=Encoding(animated=True))
    image = Image.open(BytesIO(thumbnail.data))
    image.seek(min(frame, image.n_frames) - 1)
    return image.convert("RGBA")


def _checkerboard(size: tuple[int, int], square: int = 8) -> Image.Image:
    tile = Image.new("RGBA", size, (205, 205, 205, 255))
    draw = ImageDraw.Draw(tile)
    for y in range(0, size[1], square):
        for x in range((y // square) % 2 * square, size[0], 2 * square):
            draw.rectangle((x, y, x + square - 1, y + square - 1), fill=(150, 150, 150, 255))
    return tile
