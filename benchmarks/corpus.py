"""The benchmarks' inputs: photo-like pictures from the project's own generator (smooth colour
fields plus sensor noise, so file sizes and decode times resemble a camera's, and one with detail
at every scale, where aliasing shows), at the sizes phones and cameras write, each written to a
file the contenders' workers read once."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from local_run.inputs.samples import encode, photo, store_with_orientation, textured
from PIL import Image

ONE_BOX = (256,)
THREE_BOXES = (1024, 512, 256)
WARM_UP_SIZE = (1280, 960)


@dataclass(frozen=True)
class Source:
    name: str
    format: str  # JPEG or PNG
    size: tuple[int, int]  # as stored
    rounds: int  # timed rounds per contender: fewer for the slow ones
    data: bytes = field(repr=False)

    @property
    def key(self) -> str:
        return self.name.replace(" ", "-")

    def write(self, folder: Path) -> Path:
        path = folder / f"{self.key}.{self.format.lower()}"
        path.write_bytes(self.data)
        return path


def sources(quick: bool = False) -> list[Source]:
    def rounds(full: int) -> int:
        return max(3, full // 3) if quick else full

    landscape = photo((4000, 3000), seed=1)
    portrait, exif = store_with_orientation(photo((3000, 4000), seed=3), 6)
    rgba = photo((2000, 2000), seed=6)
    rgba.putalpha(Image.linear_gradient("L").resize(rgba.size))
    return [
        Source("JPEG 12MP", "JPEG", (4000, 3000), rounds(21), encode(landscape, "JPEG", quality=90)),
        Source("JPEG 24MP", "JPEG", (6000, 4000), rounds(15), encode(photo((6000, 4000), seed=2), "JPEG", quality=90)),
        Source("JPEG 12MP progressive", "JPEG", (4000, 3000), rounds(9),
               encode(landscape, "JPEG", quality=90, progressive=True)),
        Source("JPEG 12MP EXIF-6", "JPEG", portrait.size, rounds(11), encode(portrait, "JPEG", quality=90, exif=exif)),
        # Detail at every scale, where photo() has smooth fields and noise: what shows a draft's
        # aliasing. 2725x2225, the size of a Flickr photo that showed it first.
        Source("JPEG 6MP textured", "JPEG", (2725, 2225), rounds(11),
               encode(textured((2725, 2225), seed=5), "JPEG", quality=90)),
        Source("PNG 12MP RGB", "PNG", (4000, 3000), rounds(11), encode(photo((4000, 3000), seed=4), "PNG")),
        Source("PNG 4MP RGBA", "PNG", (2000, 2000), rounds(15), encode(rgba, "PNG")),
    ]  # fmt: skip


def warm_ups() -> list[Source]:
    """Images each worker thumbnails once before anything counts: imports, first-use allocations
    and libraries' lazy set-up are paid outside the figures. 1280x960, so that the 1024 px box
    resamples it and every library a path loads is loaded (ours loads libvips for a large RGB
    resample), yet small beside the sources, so the heap it leaves lends little to the figure."""
    small = photo(WARM_UP_SIZE, seed=9)
    return [Source(f"warm {fmt}", fmt, small.size, 1, encode(small, fmt)) for fmt in ("JPEG", "PNG")]
