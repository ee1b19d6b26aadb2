"""Camera RAW sources (DNG, CR2, NEF, ARW): the JPEG preview the camera embedded, never the
sensor data.

Most cameras embed a JPEG preview: the sensor's full size (Canon's CR2, Nikon's NEF JpgFromRaw),
or a screen's (Sony's ARW: 1616 x 1080; a DNG: whatever its writer chose). raw_layout.py finds
them in pure Python. The smallest that serves every box (no box's thumbnail or crop would come
out smaller than the sensor would give it) is read through the JPEG reader (libjpeg's draft
scale), turned by the RAW's own orientation: the preview rarely carries one. MAX_SOURCE_PIXELS
and the memory budget apply to the preview, and the size the manifest gives is the preview's,
upright: what the thumbnails were made from.

Where no preview serves (none at all, or all smaller than a box needs), the RAW is NoUsablePreview,
a permanent failure naming the preview and the box. A thumbnail from that preview would be
smaller than asked for, or blurred, and the one thing that could do better, a demosaic of the
sensor data (LibRaw through rawpy, LGPL-2.1, 72 MB with numpy), is not in the artifact. What the
JPEG reader says about a preview's bytes (cut short, not a JPEG after all) is NotAnImage, as for
any JPEG.
"""

from __future__ import annotations

from collections.abc import Sequence

from create_thumbnail.config import COVER, Box
from create_thumbnail.errors import NoUsablePreview
from create_thumbnail.imaging.budget import Budget
from create_thumbnail.imaging.readers import Loaded, jpeg
from create_thumbnail.imaging.readers.orientation import upright_size
from create_thumbnail.imaging.readers.raw_layout import Preview, RawLayout, read_layout
from create_thumbnail.imaging.renditions import box_scale

# A preview this close to the sensor data's size is the picture at full size (the sensor's IFD
# counts masked border pixels a camera crops: a Canon 5D Mark III's 5920 x 3950 for a 5760 x
# 3840 JPEG): it serves any box, as the sensor would, even one larger than itself.
FULL_SIZE = 0.9


def load(data: bytes, boxes: Sequence[Box], max_pixels: int, budget: Budget) -> Loaded:
    layout = read_layout(data)
    preview = serving_preview(layout, boxes)
    if preview is None:
        raise NoUsablePreview(_why_none_serves(layout, boxes))
    found = data[preview.offset : preview.offset + preview.length]
    left = None if budget.bytes is None else max(0, budget.bytes - len(data))  # the RAW stays held
    return jpeg.load_oriented(found, boxes, max_pixels, Budget(left), layout.orientation)


def serving_preview(layout: RawLayout, boxes: Sequence[Box]) -> Preview | None:
    """The smallest preview that serves every box, or None."""
    serving = [preview for preview in layout.previews if _serves(preview, layout, boxes)]
    return min(serving, key=lambda preview: preview.size[0] * preview.size[1], default=None)


def _serves(preview: Preview, layout: RawLayout, boxes: Sequence[Box]) -> bool:
    """Whether the preview is scaled down (or kept) for every box, never limits one; or is the
    picture at full size. An orientation not known (the preview's own JPEG may carry one) must
    serve either way round."""
    if _full_size(preview.size, layout.sensor):
        return True
    if layout.orientation is None:
        turns = [preview.size, preview.size[::-1]]
    else:
        turns = [upright_size(preview.size, layout.orientation)]
    return all(box_scale(size, box) <= 1 for size in turns for box in boxes)


def _full_size(size: tuple[int, int], sensor: tuple[int, int] | None) -> bool:
    if sensor is None or min(sensor) < 1:
        return False
    return all(side >= FULL_SIZE * whole for side, whole in zip(sorted(size), sorted(sensor)))


def _why_none_serves(layout: RawLayout, boxes: Sequence[Box]) -> str:
    shipped = "and no demosaic of the sensor data is shipped"
    if not layout.declared:
        return f"a camera RAW without an embedded preview, {shipped}"
    if not layout.previews:
        return (
            f"a camera RAW whose {layout.declared} embedded preview(s) hold no JPEG picture "
            f"(another compression, a stub, or past the end of the file), {shipped}"
        )
    largest = max(layout.previews, key=lambda preview: preview.size[0] * preview.size[1])
    size = upright_size(largest.size, layout.orientation or 1)
    unserved = next(box for box in boxes if not _serves(largest, layout, [box]))
    fit = ":cover" if unserved.fit == COVER else ""
    return (
        f"a camera RAW whose largest embedded preview, {size[0]}x{size[1]}, is too small for "
        f"the box {unserved.width}x{unserved.height}{fit}, {shipped}"
    )
