"""Where a crop-to-fill box cuts: the region of the upright image with the box's aspect ratio,
centred on a focal point, the object's own (S3 metadata) or the interesting part of the picture.

The attention gravity follows libvips' idea, on a small copy so it costs about a millisecond:
edges (where the detail is), saturation (where the colour is) and skin tones (where the people
are) add up to a saliency map, which is blurred so that one strong spot is not beaten by
scattered texture; the crop then centres, along the one axis it can move on, on the column (or
row) holding the most saliency, as libvips centres on its map's peak. Pure Pillow, no I/O. A
one-off study measured it against libvips' smartcrop on generated scenes (docs/configuration.md;
`git show cd1b3a7:benchmarks/crop_bench.py`).
"""

from __future__ import annotations

from functools import cache

from PIL import Image, ImageChops, ImageFilter, ImageStat

Region = tuple[int, int, int, int]  # left, top, right, bottom
Point = tuple[float, float]  # fractions of the width and height, 0-1

CENTRE: Point = (0.5, 0.5)
_MAP_SIDE = 96  # the saliency map's long side: enough to place a crop, cheap to compute


def cover_region(size: tuple[int, int], aspect: tuple[int, int], centre: Point = CENTRE) -> Region:
    """The largest region of an image of this size with the aspect ratio (width, height),
    centred on centre as nearly as the image's edges allow."""
    width, height = size
    if width * aspect[1] > height * aspect[0]:  # wider than the box: cut the sides
        crop_w, crop_h = max(1, min(width, round(height * aspect[0] / aspect[1]))), height
    else:
        crop_w, crop_h = width, max(1, min(height, round(width * aspect[1] / aspect[0])))
    left = _clamp(round(centre[0] * width - crop_w / 2), 0, width - crop_w)
    top = _clamp(round(centre[1] * height - crop_h / 2), 0, height - crop_h)
    return left, top, left + crop_w, top + crop_h


def cover_size(region: Region, box: tuple[int, int]) -> tuple[int, int]:
    """The box, or the region itself when it is smaller: a crop is never upscaled."""
    crop_w, crop_h = region[2] - region[0], region[3] - region[1]
    if crop_w >= box[0] and crop_h >= box[1]:
        return box
    scale = min(crop_w / box[0], crop_h / box[1])
    return max(1, round(box[0] * scale)), max(1, round(box[1] * scale))


def parse_focal_point(value: str | None) -> Point | None:
    """'X,Y', fractions 0-1 of the upright image (as a CMS sets x-amz-meta-focal-point), or None
    for absent or malformed: the caller says which."""
    if value is None:
        return None
    parts = value.split(",")
    try:
        x, y = (float(part) for part in parts)
    except ValueError:
        return None
    return (x, y) if 0 <= x <= 1 and 0 <= y <= 1 else None


def attention_centre(image: Image.Image, aspect: tuple[int, int]) -> Point:
    """Where the crop of this aspect ratio centres: on the saliency map's peak, along the one
    axis the crop can move on."""
    saliency = _saliency(image)
    width, height = saliency.size
    x, y = _peak(saliency)
    region = cover_region((width, height), aspect)
    if region[2] - region[0] < width:  # slides horizontally
        return (x + 0.5) / width, 0.5
    if region[3] - region[1] < height:
        return 0.5, (y + 0.5) / height
    return CENTRE


def _saliency(image: Image.Image) -> Image.Image:
    """Edges + saturation + skin on a copy _MAP_SIDE pixels long, blurred. Each counts only where
    it stands out from its own median, since what the whole picture has (a skin-toned wall, an
    even texture, a colourful backdrop) is background, not a subject; and each is a third of the
    whole, so that their sum cannot clip."""
    small = image.convert("RGB") if image.mode not in ("RGB",) else image
    scale = _MAP_SIDE / max(small.size)
    if scale < 1:
        size = (max(1, round(small.width * scale)), max(1, round(small.height * scale)))
        small = small.resize(size, Image.Resampling.BOX)
    edges = _inner(small.convert("L").filter(ImageFilter.FIND_EDGES))
    saturation = small.convert("HSV").getchannel("S").point(_saturation_lut())
    _, blue_diff, red_diff = small.convert("YCbCr").split()
    skin = ImageChops.multiply(blue_diff.point(_in_range(77, 127)), red_diff.point(_in_range(133, 173)))
    edges, saturation, skin = (_standing_out(component) for component in (edges, saturation, skin))
    total = ImageChops.add(ImageChops.add(edges, saturation), skin)
    return total.filter(ImageFilter.GaussianBlur(max(1, max(total.size) / 24)))


def _standing_out(component: Image.Image) -> Image.Image:
    """What exceeds the component's median, scaled to a third of 255."""
    median = int(ImageStat.Stat(component).median[0])
    return component.point([max(0, value - median) * 85 // max(1, 255 - median) for value in range(256)])


def _inner(edges: Image.Image) -> Image.Image:
    """Pillow's 3x3 filters copy the source into the 1-pixel border: an edge of the frame, not
    of the picture. Cleared, so a plain background does not pull the crop to a side."""
    cleared = Image.new("L", edges.size, 0)
    if edges.width > 2 and edges.height > 2:
        cleared.paste(edges.crop((1, 1, edges.width - 1, edges.height - 1)), (1, 1))
    return cleared


def _peak(saliency: Image.Image) -> tuple[int, int]:
    """The brightest pixel; the most central of ties (a plain picture stays centred)."""
    width, height = saliency.size
    values = saliency.tobytes()
    brightest = bytes([saliency.getextrema()[1]])
    if brightest == b"\x00":
        return width // 2, height // 2
    found, index = [], values.find(brightest)
    while index != -1:
        found.append(index)
        index = values.find(brightest, index + 1)
    middle_x, middle_y = (width - 1) / 2, (height - 1) / 2
    best = min(found, key=lambda i: abs(i % width - middle_x) + abs(i // width - middle_y))
    return best % width, best // width


@cache
def _saturation_lut() -> list[int]:
    """Weak colour counts for little: greys and pastels are background more often than not."""
    return [0 if value < 64 else min(255, (value - 64) * 2) for value in range(256)]


@cache
def _in_range(low: int, high: int) -> list[int]:
    return [255 if low <= value <= high else 0 for value in range(256)]


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))
