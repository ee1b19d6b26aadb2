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
DEADLINE_MARGIN_MS = "DEADLINE_MARGIN_MS"
THUMBNAIL_FORMAT = "THUMBNAIL_FORMAT"
JPEG_QUALITY = "JPEG_QUALITY"
WEBP_QUALITY = "WEBP_QUALITY"
AVIF_QUALITY = "AVIF_QUALITY"
PNG_COMPRESS_LEVEL = "PNG_COMPRESS_LEVEL"
THUMBNAIL_BACKGROUND = "THUMBNAIL_BACKGROUND"
# Set by Lambda from the function's MemorySize (and by thumbnail-local's emulator from the
# template's): the memory budget for decoding is derived from it.
FUNCTION_MEMORY_SIZE = "AWS_LAMBDA_FUNCTION_MEMORY_SIZE"

DEFAULT_SIZES = "256x256"
# A 12 MP phone JPEG is 3-8 MB; 50 MiB leaves room for large PNGs without letting a multi-GB
# object be read into a 1 GB function.
DEFAULT_MAX_SOURCE_BYTES = 50 * 1024 * 1024
# 50 MP admits 48 MP phone photos. A PNG has no draft mode, so it decodes in full: a 50 MP RGB
# PNG peaks near 400 MB over the runtime's 72 MB (benchmarks/handler_bench.py), within the 1024 MB
# template.yaml gives the function; 100 MP would not be.
DEFAULT_MAX_SOURCE_PIXELS = 50_000_000
# A record is started only while this much of the invocation's time is left. The slowest record
# measured (a 50 MP PNG: ~1.1 s on the benchmark host, ~2 s at 1024 MB) fits five times over,
# and it is a sixth of template.yaml's 60 s Timeout. What is not started is left for the retry.
DEFAULT_DEADLINE_MARGIN_MS = 10_000
# template.yaml's MemorySize: what the budget assumes where Lambda does not say (tests, the
# in-process demo).
DEFAULT_MEMORY_MB = 1024
MAX_BOX_SIDE = 4096

OUTPUT_FORMATS = ("source", "jpeg", "png", "webp", "avif")
_COLOUR = re.compile(r"^#?([0-9a-fA-F]{6})$")
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
class Encoding:
    """How thumbnails are written. 'source' keeps the source's format (JPEG -> JPEG, PNG -> PNG)."""

    format: str = "source"
    jpeg_quality: int = 85
    webp_quality: int = 80
    # AVIF's scale is harsher than JPEG's: 60 looks like JPEG 85 at about half the bytes.
    avif_quality: int = 60
    # zlib level. 3, measured on a 12 MP photo-like PNG -> 256 px: 4.4 ms and 47 KB, where zlib's
    # default 6 takes 14 ms for 43 KB (and a 1024 px RGBA thumbnail 356 ms vs ~80). Set 6-9 when
    # bytes served matter more than encode time.
    png_compress_level: int = 3
    # JPEG has no alpha: transparent pixels are composited onto this, as a browser shows them.
    background: tuple[int, int, int] = (255, 255, 255)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Encoding:
        default = cls()
        return cls(
            format=parse_choice(THUMBNAIL_FORMAT, env.get(THUMBNAIL_FORMAT), OUTPUT_FORMATS, default.format),
            jpeg_quality=parse_int_in(JPEG_QUALITY, env.get(JPEG_QUALITY), 1, 95, default.jpeg_quality),
            webp_quality=parse_int_in(WEBP_QUALITY, env.get(WEBP_QUALITY), 1, 100, default.webp_quality),
            avif_quality=parse_int_in(AVIF_QUALITY, env.get(AVIF_QUALITY), 1, 100, default.avif_quality),
            png_compress_level=parse_int_in(
                PNG_COMPRESS_LEVEL, env.get(PNG_COMPRESS_LEVEL), 0, 9, default.png_compress_level
            ),
            background=parse_colour(THUMBNAIL_BACKGROUND, env.get(THUMBNAIL_BACKGROUND), default.background),
        )


@dataclass(frozen=True, slots=True)
class Settings:
    destination_bucket: str
    sizes: tuple[Box, ...]
    max_source_bytes: int = DEFAULT_MAX_SOURCE_BYTES
    max_source_pixels: int = DEFAULT_MAX_SOURCE_PIXELS
    deadline_margin_ms: int = DEFAULT_DEADLINE_MARGIN_MS
    encoding: Encoding = Encoding()
    memory_mb: int = DEFAULT_MEMORY_MB

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
            deadline_margin_ms=parse_positive_int(
                DEADLINE_MARGIN_MS, env.get(DEADLINE_MARGIN_MS), DEFAULT_DEADLINE_MARGIN_MS
            ),
            encoding=Encoding.from_env(env),
            memory_mb=parse_int_in(FUNCTION_MEMORY_SIZE, env.get(FUNCTION_MEMORY_SIZE), 128, 10_240, DEFAULT_MEMORY_MB),
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
    return parse_int_in(name, value, 1, None, default)


def parse_choice(name: str, value: str | None, choices: tuple[str, ...], default: str) -> str:
    if value is None or not value.strip():
        return default
    choice = value.strip().lower()
    if choice not in choices:
        raise ConfigError(f"{name}: {value!r} is not one of {', '.join(choices)}")
    return choice


def parse_int_in(name: str, value: str | None, low: int, high: int | None, default: int) -> int:
    """Blank means the default; '50_000_000' reads as Python would write it."""
    if value is None or not value.strip():
        return default
    try:
        number = int(value.strip().replace("_", ""))
    except ValueError:
        raise ConfigError(f"{name}: {value!r} is not a whole number") from None
    if high is None and number < low:
        raise ConfigError(f"{name}: {value!r} must be {low} or more")
    if high is not None and not low <= number <= high:
        raise ConfigError(f"{name}: {value!r} must be from {low} to {high}")
    return number


def parse_colour(name: str, value: str | None, default: tuple[int, int, int]) -> tuple[int, int, int]:
    if value is None or not value.strip():
        return default
    match = _COLOUR.match(value.strip())
    if not match:
        raise ConfigError(f"{name}: {value!r} is not a colour like #ffffff")
    digits = match[1]
    return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)
