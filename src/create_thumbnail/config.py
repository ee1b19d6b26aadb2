"""Settings read once from the environment into a frozen, validated object.

Every default lives here; template.yaml sets the rest. A bad value raises ConfigError naming the
variable, so the first invocation of a misconfigured deployment fails loudly instead of writing
thumbnails somewhere unexpected.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from create_thumbnail.errors import ConfigError

DESTINATION_BUCKET = "DESTINATION_BUCKET"
THUMBNAIL_SIZES = "THUMBNAIL_SIZES"
MAX_SOURCE_BYTES = "MAX_SOURCE_BYTES"
MAX_SOURCE_PIXELS = "MAX_SOURCE_PIXELS"

DEFAULT_SIZES = "256x256"
# A 12 MP phone JPEG is 3-8 MB; 50 MiB leaves room for large PNGs without letting a multi-GB
# object be read into a 1 GB function.
DEFAULT_MAX_SOURCE_BYTES = 50 * 1024 * 1024
# 50 MP admits 48 MP phone photos. A PNG has no draft mode, so it decodes in full: a 50 MP RGB
# PNG peaks near 400 MB over the runtime's 72 MB (benchmarks/handler_bench.py), within the 1024 MB
# template.yaml gives the function; 100 MP would not be.
DEFAULT_MAX_SOURCE_PIXELS = 50_000_000
MAX_BOX_SIDE = 4096

_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_BOX = re.compile(r"^\s*(\d+)\s*[xX]\s*(\d+)\s*$")


@dataclass(frozen=True, slots=True, order=True)
class Box:
    """A bounding box a thumbnail must fit in; its aspect ratio is the source's, not the box's."""

    width: int
    height: int

    def __str__(self) -> str:
        return f"{self.width}x{self.height}"


@dataclass(frozen=True, slots=True)
class Settings:
    destination_bucket: str
    sizes: tuple[Box, ...]
    max_source_bytes: int = DEFAULT_MAX_SOURCE_BYTES
    max_source_pixels: int = DEFAULT_MAX_SOURCE_PIXELS

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Tests pass a plain dict; the handler passes os.environ."""
        return cls(
            destination_bucket=parse_bucket(DESTINATION_BUCKET, env.get(DESTINATION_BUCKET)),
            sizes=parse_sizes(THUMBNAIL_SIZES, env.get(THUMBNAIL_SIZES) or DEFAULT_SIZES),
            max_source_bytes=parse_positive_int(
                MAX_SOURCE_BYTES, env.get(MAX_SOURCE_BYTES), DEFAULT_MAX_SOURCE_BYTES
            ),
            max_source_pixels=parse_positive_int(
                MAX_SOURCE_PIXELS, env.get(MAX_SOURCE_PIXELS), DEFAULT_MAX_SOURCE_PIXELS
            ),
        )


def parse_bucket(name: str, value: str | None) -> str:
    if not value or not value.strip():
        raise ConfigError(f"{name} is not set: name the bucket thumbnails are written to")
    value = value.strip()
    if not _BUCKET_NAME.match(value) or ".." in value:
        raise ConfigError(f"{name}: {value!r} is not a valid S3 bucket name")
    return value


def parse_sizes(name: str, value: str) -> tuple[Box, ...]:
    """'256x256, 1024x768' -> boxes, deduplicated and sorted so naming and logs are stable."""
    boxes = set()
    for part in value.split(","):
        match = _BOX.match(part)
        if not match:
            raise ConfigError(f"{name}: {part.strip()!r} is not WIDTHxHEIGHT (e.g. 256x256)")
        box = Box(int(match[1]), int(match[2]))
        if not (1 <= box.width <= MAX_BOX_SIDE and 1 <= box.height <= MAX_BOX_SIDE):
            raise ConfigError(f"{name}: {part.strip()!r} needs sides from 1 to {MAX_BOX_SIDE}")
        boxes.add(box)
    return tuple(sorted(boxes))


def parse_positive_int(name: str, value: str | None, default: int) -> int:
    if value is None or not value.strip():
        return default
    try:
        number = int(value.strip().replace("_", ""))
    except ValueError:
        raise ConfigError(f"{name}: {value!r} is not a whole number") from None
    if number <= 0:
        raise ConfigError(f"{name}: {value!r} must be greater than zero")
    return number
