"""Settings read once from the environment into a frozen, validated object.

Every default lives here; template.yaml sets the rest. A bad value raises ConfigError naming the
variable, so the first invocation of a misconfigured deployment fails loudly instead of writing
thumbnails somewhere unexpected.

What a key's thumbnails look like (boxes, formats, gravity, a PDF's page) is a Rule: the plain
settings are the default rule, and THUMBNAIL_RULES may give key prefixes rules of their own, the
longest matching prefix winning.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

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
THUMBNAIL_GRAVITY = "THUMBNAIL_GRAVITY"
PDF_PAGE = "PDF_PAGE"
VIDEO_POSTER = "VIDEO_POSTER"
VIDEO_SEARCH_SECONDS = "VIDEO_SEARCH_SECONDS"
MAX_VIDEO_READ_BYTES = "MAX_VIDEO_READ_BYTES"
SOURCE_FORMATS = "SOURCE_FORMATS"
THUMBNAIL_ANIMATED = "THUMBNAIL_ANIMATED"
MAX_FRAMES = "MAX_FRAMES"
THUMBNAIL_RULES = "THUMBNAIL_RULES"
THUMBNAIL_MANIFEST = "THUMBNAIL_MANIFEST"
EVENT_BUS_NAME = "EVENT_BUS_NAME"
THUMBNAIL_CACHE_CONTROL = "THUMBNAIL_CACHE_CONTROL"
MANIFEST_CACHE_CONTROL = "MANIFEST_CACHE_CONTROL"
DELIVERY_BASE_URL = "DELIVERY_BASE_URL"
MAX_KEY_BYTES = 1024  # S3's limit on an object key, in UTF-8 bytes
# A source bucket shared with other data (ExistingSourceBucket): only keys under this prefix.
SOURCE_KEY_PREFIX = "SOURCE_KEY_PREFIX"
# Set by Lambda from the function's MemorySize (and by thumbnail-local's emulator from the
# template's): the memory budget for decoding is derived from it.
FUNCTION_MEMORY_SIZE = "AWS_LAMBDA_FUNCTION_MEMORY_SIZE"
# Where Lambda puts the artifact: a THUMBNAIL_RULES file name is read relative to it.
TASK_ROOT = "LAMBDA_TASK_ROOT"

DEFAULT_SIZES = "256x256"
# A 12 MP phone JPEG is 3-8 MB; 50 MiB leaves room for large PNGs without letting a multi-GB
# object be read into a 1 GB function.
DEFAULT_MAX_SOURCE_BYTES = 50 * 1024 * 1024
# 50 MP admits 48 MP phone photos. A PNG streams through libvips' shrink (readers/png.py): a 50 MP
# RGB PNG to 256 and 1024 px took 0.66 s and 93 MB over the runtime's (benchmarks/budget_bench.py).
# The memory budget (budget.py) is the floor under this cap.
DEFAULT_MAX_SOURCE_PIXELS = 50_000_000
# Lambda's MemorySize range, in MB (MiB, as Lambda counts them).
MIN_MEMORY_MB, MAX_MEMORY_MB = 128, 10_240
# A source is read whole into the function's memory (lifecycle.py), and no function has more
# than MAX_MEMORY_MB: an object larger than this could never be read, by any deployment.
MAX_SOURCE_BYTES_LIMIT = MAX_MEMORY_MB * 1024 * 1024
# budget.MAX_SIDE squared (a test keeps them equal; budget.py imports this module): no image
# with more pixels passes budget.check_shape. Below it, at MAX_MEMORY_MB the memory budget still
# admits some images of every size (a grey PNG streams at ~2 bytes a source pixel, 8.6 GB at
# 65,535 x 65,535 against a budget of 10,140 MB; a baseline JPEG decodes at 1/8 scale), so no
# smaller bound holds for every image: above this the limit would mean nothing.
MAX_SOURCE_PIXELS_LIMIT = 65_535 * 65_535
# A record is started only while this much of the invocation's time is left. The slowest records
# measured (a 12 MP HEIF, a 50 MP PNG: 0.9 and 0.7 s on the benchmark host, under 2 s at
# 1024 MB) fit five times over, and it is a sixth of template.yaml's 60 s Timeout. What is not started is left for the retry.
DEFAULT_DEADLINE_MARGIN_MS = 10_000
# template.yaml's MemorySize: what the budget assumes where Lambda does not say (tests, the
# in-process demo).
DEFAULT_MEMORY_MB = 1024
DEFAULT_MAX_FRAMES = 100
MAX_FRAMES_LIMIT = 10_000
MAX_BOX_SIDE = 4096
# PDF's implementation limit on indirect objects (ISO 32000-1, Annex C: 8,388,607), each page
# one of them: no document has a page past it, so a larger PDF_PAGE is a typing error.
MAX_PDF_PAGE = 8_388_607
# A video's poster is looked for over its first seconds; a poster time is within a day.
DEFAULT_VIDEO_SEARCH_SECONDS = 10
MAX_VIDEO_SEARCH_SECONDS = 600
MAX_POSTER_SECONDS = 86_400
# What a video may cost to read, in all, for its poster frame: a phone's 4K clip of any length
# needs 1-3 MB (its index and first frame); 64 MiB leaves room for a long clip's index and a
# search through seconds of black at a high bitrate.
DEFAULT_MAX_VIDEO_READ_BYTES = 64 * 1024 * 1024
# Cache-Control of what the function writes. A re-upload rewrites a thumbnail under the same key
# and a delete removes it, so a browser or CDN must not keep showing the old one for long: after
# 5 minutes it revalidates with the ETag (a 304, no body). Raise it when sources are never
# overwritten. The manifest is the index a page reads to find the current renditions: always
# revalidated.
DEFAULT_THUMBNAIL_CACHE_CONTROL = "public, max-age=300"
DEFAULT_MANIFEST_CACHE_CONTROL = "no-cache"
# An HTTP header's value, stored by S3 and sent on every GET: generous for any real directive list.
MAX_CACHE_CONTROL = 256
# Hosts a DELIVERY_BASE_URL may name over plain http: this machine only (the local demo's S3).
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")

OUTPUT_FORMATS = ("source", "jpeg", "png", "webp", "avif")
# What the function reads. JPEG and PNG by default; the others are opt-in (HEIF needs pi-heif,
# PDF pypdfium2, SVG resvg-py: shipped, each imported only when such a file arrives; a camera
# RAW's embedded preview needs nothing more than JPEG does; video PyAV and JPEG XL
# pillow-jxl-plugin, each in a layer the stack attaches only then).
ALL_SOURCE_FORMATS = ("jpeg", "png", "webp", "gif", "tiff", "heif", "avif", "pdf", "svg", "raw", "video", "jxl")
DEFAULT_SOURCE_FORMATS = ("jpeg", "png")
# The formats whose decoder is not in the function's artifact but in a layer (GPL, and FFmpeg is
# large): setting -> (the module imported, the package, the template's layer).
LAYERED_DECODERS = {
    "video": ("av", "PyAV", "VideoDecoderLayer"),
    "jxl": ("pillow_jxl", "pillow-jxl-plugin", "JxlDecoderLayer"),
}
GRAVITIES = ("attention", "centre")
INSIDE, COVER = "inside", "cover"
_COLOUR = re.compile(r"^#?([0-9a-fA-F]{6})$")
_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
# Digits are ASCII ones: int() and \d also take other scripts' ('٣'), which no AWS API does.
_BOX = re.compile(r"^\s*([0-9]+)\s*[xX]\s*([0-9]+)\s*(?::\s*(\w+)\s*)?$")
# As Python writes a number: digits, optionally grouped by single underscores (50_000_000). A
# sign is read so that '-5' is told it is out of range rather than not a number.
# Seconds as people write them: 2, 2.5 (ASCII digits, at most millisecond precision).
_SECONDS = re.compile(r"^[0-9]{1,6}(\.[0-9]{1,3})?$")
_WHOLE_NUMBER = re.compile(r"-?[0-9]+(?:_[0-9]+)*")
_TRUE, _FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off")
_BUS_NAME = re.compile(r"^[A-Za-z0-9._\-/]{1,256}$|^arn:aws[a-z-]*:events:[a-z0-9-]+:[0-9]{12}:event-bus/[A-Za-z0-9._\-/]{1,256}$")


@dataclass(frozen=True, slots=True, order=True)
class Box:
    """A box a thumbnail is made for. fit "inside": the largest size inside the box with the
    source's aspect ratio; "cover": exactly the box, cropped to fill it. Neither upscales."""

    width: int
    height: int
    fit: str = INSIDE

    def __str__(self) -> str:
        """As THUMBNAIL_SIZES spells it: 256x256, 150x150:cover."""
        return f"{self.width}x{self.height}" + (f":{self.fit}" if self.fit != INSIDE else "")

    @property
    def prefix(self) -> str:
        """The thumbnail keys' first path segment: 256x256/, 150x150-cover/ (no colon: a
        relative URL whose first segment holds one reads as a scheme)."""
        return f"{self.width}x{self.height}" + (f"-{self.fit}" if self.fit != INSIDE else "")


@dataclass(frozen=True, slots=True)
class Encoding:
    """How thumbnails are written: one file per box and format. 'source' keeps the source's
    format where browsers show it (JPEG -> JPEG, PNG -> PNG, WebP, AVIF; a GIF, TIFF or HEIF
    becomes PNG or JPEG, see formats.py)."""

    formats: tuple[str, ...] = ("source",)
    jpeg_quality: int = 85
    # WebP and AVIF by measurement (a one-off study, `git show cd1b3a7:benchmarks/format_bench.py`:
    # a 12 MP photo's 256 and 1024 px thumbnails, SSIM against the unencoded rendition): WebP never quite reaches JPEG 85's SSIM
    # there; 90 comes closest (0.9911 / 0.9864 against 0.9954 / 0.9896) at 0.72x / 0.54x its
    # bytes. AVIF 65 at speed 6 (formats.py) matches it (0.9951 / 0.9890) at 0.44x / 0.25x, where
    # speed 8 never gets there at any quality tried.
    webp_quality: int = 90
    avif_quality: int = 65
    # zlib level (libvips' encoder, "up" filters, formats.encode_png). 3, measured on photo-like 256
    # and 1024 px thumbnails: 2.1 ms / 49 KB and 23 ms / 725 KB, where zlib's default 6 takes
    # 4.6 ms / 47 KB and 114 ms / 681 KB. Set 6-9 when bytes served matter more than encode time.
    png_compress_level: int = 3
    # JPEG has no alpha: transparent pixels are composited onto this, as a browser shows them.
    background: tuple[int, int, int] = (255, 255, 255)
    # An animated GIF or WebP keeps its animation in GIF and WebP thumbnails (others get the
    # first frame), up to max_frames frames and MAX_SOURCE_PIXELS pixels over all of them.
    animated: bool = False
    max_frames: int = DEFAULT_MAX_FRAMES

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Encoding:
        default = cls()
        return cls(
            formats=parse_formats(THUMBNAIL_FORMAT, env.get(THUMBNAIL_FORMAT), default.formats),
            jpeg_quality=parse_int_in(JPEG_QUALITY, env.get(JPEG_QUALITY), 1, 95, default.jpeg_quality),
            webp_quality=parse_int_in(WEBP_QUALITY, env.get(WEBP_QUALITY), 1, 100, default.webp_quality),
            avif_quality=parse_int_in(AVIF_QUALITY, env.get(AVIF_QUALITY), 1, 100, default.avif_quality),
            png_compress_level=parse_int_in(
                PNG_COMPRESS_LEVEL, env.get(PNG_COMPRESS_LEVEL), 0, 9, default.png_compress_level
            ),
            background=parse_colour(THUMBNAIL_BACKGROUND, env.get(THUMBNAIL_BACKGROUND), default.background),
            animated=parse_bool(THUMBNAIL_ANIMATED, env.get(THUMBNAIL_ANIMATED), default.animated),
            max_frames=parse_int_in(MAX_FRAMES, env.get(MAX_FRAMES), 1, MAX_FRAMES_LIMIT, default.max_frames),
        )


@dataclass(frozen=True, slots=True)
class Reading:
    """What a reader is asked beyond the boxes and the limits: which page of a document becomes
    the thumbnail, counted from 1 as people count pages; which frame of a video. Only a reader
    with such a choice is handed it (readers/registry.py); a JPEG's reader never sees it."""

    page: int = 1  # a PDF with fewer pages gives its last one, with a warning (readers/pdf.py)
    # A video's poster: the frame at this many seconds; None: the first that is not blank, looked
    # for over search_seconds (readers/video.py).
    poster: float | None = None
    search_seconds: int = DEFAULT_VIDEO_SEARCH_SECONDS


@dataclass(frozen=True, slots=True)
class Rule:
    """What the thumbnails of a key look like. Its digest is recorded on every thumbnail, so a
    re-delivered event after a rule change makes them again, and backfill --stale finds them."""

    sizes: tuple[Box, ...]
    encoding: Encoding = Encoding()
    gravity: str = "attention"
    prefix: str | None = None  # None: the plain settings
    reading: Reading = Reading()

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.description.encode()).hexdigest()[:16]

    @property
    def description(self) -> str:
        """What makes a thumbnail's bytes, by name, and nothing else: a field added to Encoding
        that does not change them (a timeout, a switch for logs) leaves every digest alone.
        Written as the first digest wrote them, a repr of the dataclasses, so the thumbnails it
        recorded are not taken for stale; a new setting that changes the bytes goes in
        _DESCRIBED_ENCODING, and changes every digest, as it should. Reading came later: its
        fields are written only where they differ from the default, so the digests recorded
        before it (every PDF rendered from its first page) stay as they were."""
        boxes = [f"Box(width={box.width!r}, height={box.height!r}, fit={box.fit!r})" for box in self.sizes]
        encoding = ", ".join(f"{name}={getattr(self.encoding, name)!r}" for name in _DESCRIBED_ENCODING)
        parts = [_tuple_text(boxes), f"Encoding({encoding})", repr(self.gravity)]
        reading = [f"{name}={getattr(self.reading, name)!r}" for name in _DESCRIBED_READING
                   if getattr(self.reading, name) != getattr(Reading(), name)]  # fmt: skip
        if reading:
            parts.append(f"Reading({', '.join(reading)})")
        return _tuple_text(parts)


# The Encoding fields that change a thumbnail's bytes, in the order the digest has always had.
_DESCRIBED_ENCODING = (
    "formats", "jpeg_quality", "webp_quality", "avif_quality", "png_compress_level",
    "background", "animated", "max_frames",
)  # fmt: skip
# The Reading fields that change a thumbnail's bytes: described only where not the default.
_DESCRIBED_READING = ("page", "poster", "search_seconds")


def _tuple_text(items: list[str]) -> str:
    """As repr writes a tuple of these texts: '(a,)' for one, '(a, b)' for two."""
    return f"({', '.join(items)}{',' if len(items) == 1 else ''})"


@dataclass(frozen=True, slots=True)
class Settings:
    destination_bucket: str
    sizes: tuple[Box, ...]
    max_source_bytes: int = DEFAULT_MAX_SOURCE_BYTES
    max_source_pixels: int = DEFAULT_MAX_SOURCE_PIXELS
    max_video_read_bytes: int = DEFAULT_MAX_VIDEO_READ_BYTES
    deadline_margin_ms: int = DEFAULT_DEADLINE_MARGIN_MS
    encoding: Encoding = Encoding()
    memory_mb: int = DEFAULT_MEMORY_MB
    gravity: str = "attention"
    reading: Reading = Reading()
    source_formats: tuple[str, ...] = DEFAULT_SOURCE_FORMATS
    rules: tuple[Rule, ...] = field(default=())  # longest prefix first
    manifest: bool = True  # manifests/<key>.json beside the thumbnails
    event_bus: str | None = None  # where completion events go; None: nowhere
    thumbnail_cache_control: str = DEFAULT_THUMBNAIL_CACHE_CONTROL
    manifest_cache_control: str = DEFAULT_MANIFEST_CACHE_CONTROL
    # Where the resized bucket is served (a CloudFront distribution): the manifest gives each
    # rendition its URL under it. None: no URLs. Never ends in '/'.
    delivery_base_url: str | None = None
    source_key_prefix: str = ""  # keys outside it are skipped; "": every key

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Tests pass a plain dict; the handler passes os.environ."""
        settings = cls(
            destination_bucket=parse_bucket(DESTINATION_BUCKET, env.get(DESTINATION_BUCKET)),
            sizes=parse_sizes(THUMBNAIL_SIZES, env.get(THUMBNAIL_SIZES) or DEFAULT_SIZES),
            max_source_bytes=parse_int_in(
                MAX_SOURCE_BYTES, env.get(MAX_SOURCE_BYTES), 1, MAX_SOURCE_BYTES_LIMIT, DEFAULT_MAX_SOURCE_BYTES
            ),
            max_source_pixels=parse_int_in(
                MAX_SOURCE_PIXELS, env.get(MAX_SOURCE_PIXELS), 1, MAX_SOURCE_PIXELS_LIMIT, DEFAULT_MAX_SOURCE_PIXELS
            ),
            max_video_read_bytes=parse_int_in(
                MAX_VIDEO_READ_BYTES, env.get(MAX_VIDEO_READ_BYTES), 1 << 20, MAX_SOURCE_BYTES_LIMIT,
                DEFAULT_MAX_VIDEO_READ_BYTES,
            ),
            deadline_margin_ms=parse_positive_int(
                DEADLINE_MARGIN_MS, env.get(DEADLINE_MARGIN_MS), DEFAULT_DEADLINE_MARGIN_MS
            ),
            encoding=Encoding.from_env(env),
            memory_mb=parse_int_in(
                FUNCTION_MEMORY_SIZE, env.get(FUNCTION_MEMORY_SIZE), MIN_MEMORY_MB, MAX_MEMORY_MB, DEFAULT_MEMORY_MB
            ),
            gravity=parse_gravity(THUMBNAIL_GRAVITY, env.get(THUMBNAIL_GRAVITY), "attention"),
            reading=Reading(
                page=parse_page(PDF_PAGE, env.get(PDF_PAGE), Reading().page),
                poster=parse_poster(VIDEO_POSTER, env.get(VIDEO_POSTER), None),
                search_seconds=parse_int_in(VIDEO_SEARCH_SECONDS, env.get(VIDEO_SEARCH_SECONDS), 0,
                                            MAX_VIDEO_SEARCH_SECONDS, DEFAULT_VIDEO_SEARCH_SECONDS),
            ),  # fmt: skip
            source_formats=parse_source_formats(SOURCE_FORMATS, env.get(SOURCE_FORMATS)),
            manifest=parse_bool(THUMBNAIL_MANIFEST, env.get(THUMBNAIL_MANIFEST), True),
            event_bus=parse_bus(EVENT_BUS_NAME, env.get(EVENT_BUS_NAME)),
            thumbnail_cache_control=parse_cache_control(
                THUMBNAIL_CACHE_CONTROL, env.get(THUMBNAIL_CACHE_CONTROL), DEFAULT_THUMBNAIL_CACHE_CONTROL
            ),
            manifest_cache_control=parse_cache_control(
                MANIFEST_CACHE_CONTROL, env.get(MANIFEST_CACHE_CONTROL), DEFAULT_MANIFEST_CACHE_CONTROL
            ),
            delivery_base_url=parse_base_url(DELIVERY_BASE_URL, env.get(DELIVERY_BASE_URL)),
            source_key_prefix=parse_key_prefix(SOURCE_KEY_PREFIX, env.get(SOURCE_KEY_PREFIX)),
        )
        text = read_rules_text(env.get(THUMBNAIL_RULES), env.get(TASK_ROOT))
        return replace(settings, rules=parse_rules(THUMBNAIL_RULES, text, settings.default_rule))

    @property
    def default_rule(self) -> Rule:
        return Rule(self.sizes, self.encoding, self.gravity, reading=self.reading)

    def rule_for(self, key: str) -> Rule:
        """The rule of the longest prefix key starts with, else the plain settings'."""
        return next((rule for rule in self.rules if key.startswith(rule.prefix or "")), self.default_rule)

    def check_against_timeout(self, timeout_ms: int) -> None:
        """Refuses a DEADLINE_MARGIN_MS that leaves no time for a record: every record would be
        left for a retry that fares no better, until the event is dropped or dead-lettered.
        Lambda does not tell a function its timeout, so the caller passes the time left as an
        invocation begins, which is the timeout less the few ms Lambda took to deliver it."""
        if self.deadline_margin_ms >= timeout_ms:
            raise ConfigError(
                f"{DEADLINE_MARGIN_MS}: {self.deadline_margin_ms:,} ms is not under the function's timeout "
                f"(about {math.ceil(timeout_ms / 1000):,} s: {timeout_ms:,} ms were left as the invocation "
                "began), so no record would ever start"
            )


def parse_bucket(name: str, value: str | None) -> str:
    if not value or not value.strip():
        raise ConfigError(f"{name} is not set: name the bucket thumbnails are written to")
    value = value.strip()
    if not _BUCKET_NAME.match(value) or ".." in value:
        raise ConfigError(f"{name}: {value!r} is not a valid S3 bucket name")
    return value


def parse_sizes(name: str, value: str) -> tuple[Box, ...]:
    """'256x256, 150x150:cover' -> boxes, deduplicated and sorted so naming and logs are stable."""
    boxes = set()
    for part in value.split(","):
        match = _BOX.match(part)
        if not match:
            raise ConfigError(f"{name}: {part.strip()!r} is not WIDTHxHEIGHT or WIDTHxHEIGHT:cover (e.g. 256x256)")
        fit = (match[3] or INSIDE).lower()
        if fit not in (INSIDE, COVER):
            raise ConfigError(f"{name}: {part.strip()!r}: the fit after ':' may only be 'cover'")
        box = Box(int(match[1]), int(match[2]), fit)
        if not (1 <= box.width <= MAX_BOX_SIDE and 1 <= box.height <= MAX_BOX_SIDE):
            raise ConfigError(f"{name}: {part.strip()!r} needs sides from 1 to {MAX_BOX_SIDE}")
        boxes.add(box)
    return tuple(sorted(boxes))


def parse_formats(name: str, value: str | None, default: tuple[str, ...]) -> tuple[str, ...]:
    return parse_list(name, value, OUTPUT_FORMATS, default)


def parse_list(name: str, value: str | None, choices: tuple[str, ...], default: tuple[str, ...]) -> tuple[str, ...]:
    """'avif, webp,jpeg' -> ('avif', 'webp', 'jpeg'): order kept, repeats dropped."""
    if value is None or not value.strip():
        return default
    items = [part.strip().lower() for part in value.split(",")]
    for item in items:
        if item not in choices:
            raise ConfigError(f"{name}: {item!r} is not one of {', '.join(choices)}")
    return tuple(dict.fromkeys(items))


def parse_gravity(name: str, value: str | None, default: str) -> str:
    if value is not None and value.strip().lower() == "center":
        return "centre"
    return parse_choice(name, value, GRAVITIES, default)


def parse_page(name: str, value: str | None, default: int) -> int:
    """A page number as people count them: 1 is the first; 0 and below are refused rather than
    read as an index from 0 or from the end."""
    return parse_int_in(name, value, 1, MAX_PDF_PAGE, default)


def parse_poster(name: str, value: str | None, default: float | None) -> float | None:
    """Seconds from a video's start, as '2' or '2.5' (ASCII digits, a point); 'auto': the first
    frame that is not blank. Blank means the default."""
    if value is None or not value.strip():
        return default
    text = value.strip()
    if text.lower() == "auto":
        return None
    if not _SECONDS.fullmatch(text):
        raise ConfigError(f"{name}: {value!r} is not a time in seconds ('2', '2.5') nor 'auto'")
    seconds = float(text)
    if seconds > MAX_POSTER_SECONDS:
        raise ConfigError(f"{name}: {value!r} is more than a day ({MAX_POSTER_SECONDS:,} s)")
    return seconds


def parse_source_formats(name: str, value: str | None) -> tuple[str, ...]:
    """SOURCE_FORMATS; video and jxl only where their decoder is installed (the layer the stack
    attaches when SourceFormats includes the format), so that a function deployed without it
    fails its first invocation saying so, not each such file later. Looked for, not imported:
    the decoder is imported with the first file that needs it."""
    formats = parse_list(name, value, ALL_SOURCE_FORMATS, DEFAULT_SOURCE_FORMATS)
    for setting in formats:
        if setting not in LAYERED_DECODERS:
            continue
        module, package, layer = LAYERED_DECODERS[setting]
        if importlib.util.find_spec(module) is None:
            raise ConfigError(
                f"{name}: {setting} needs {package}, which is not installed: the stack attaches it as "
                f"a layer ({layer}) when its SourceFormats parameter includes {setting}; a function "
                f"deployed another way needs that layer, or {package} in its artifact"
            )
    return formats


def parse_key_prefix(name: str, value: str | None) -> str:
    """Taken as written (a key may start with a space); only what no S3 key prefix can hold is
    refused: more than S3's 1,024 bytes, or control characters (a pasted newline)."""
    value = value or ""
    if len(value.encode()) > MAX_KEY_BYTES:
        raise ConfigError(f"{name}: {len(value.encode()):,} bytes is longer than any S3 key ({MAX_KEY_BYTES:,})")
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in value):
        raise ConfigError(f"{name}: {value!r} holds a control character")
    return value


def parse_bus(name: str, value: str | None) -> str | None:
    """An EventBridge bus name or ARN; blank: no completion events."""
    if value is None or not value.strip():
        return None
    if not _BUS_NAME.match(value.strip()):
        raise ConfigError(f"{name}: {value!r} is not an event bus name or ARN")
    return value.strip()


def parse_cache_control(name: str, value: str | None, default: str) -> str:
    """A Cache-Control value, sent as an HTTP header on every GET of the object: printable ASCII
    only (a newline would end the header, a control character is refused by S3 or mangled by a
    proxy). Blank means the default, as for every other variable: there is no 'no header'."""
    if value is None or not value.strip():
        return default
    text = value.strip()
    if len(text) > MAX_CACHE_CONTROL:
        raise ConfigError(f"{name}: {len(text):,} characters, over the {MAX_CACHE_CONTROL} a Cache-Control value may have")
    if bad := next((c for c in text if not " " <= c <= "~"), None):
        raise ConfigError(
            f"{name}: {value!r} holds {bad!r}: an HTTP header value is printable ASCII, without control "
            "characters or newlines (e.g. 'public, max-age=300')"
        )
    return text


def parse_base_url(name: str, value: str | None) -> str | None:
    """Where the resized bucket is served, e.g. https://d111111abcdef8.cloudfront.net; blank: no
    URLs in manifests. https only, but http for this machine (the local demo's embedded S3); a
    path is kept (an origin path, a path-style bucket), a trailing '/' is not."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if any(not "!" <= c <= "~" for c in text):
        raise ConfigError(f"{name}: {value!r} is not a URL: printable ASCII without spaces, as a browser sends it")
    try:
        parts = urlsplit(text)
        host, _ = parts.hostname, parts.port  # port: a bad one raises here
    except ValueError as error:
        raise ConfigError(f"{name}: {value!r} is not a URL ({error})") from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http") or not host:
        raise ConfigError(f"{name}: {value!r} is not an https:// URL with a host (e.g. https://d111111abcdef8.cloudfront.net)")
    if scheme == "http" and host not in LOOPBACK_HOSTS:
        raise ConfigError(
            f"{name}: {value!r} must be https://; http:// is taken only for a loopback host "
            f"({', '.join(LOOPBACK_HOSTS)}), as in the local demo"
        )
    if "?" in text or "#" in text:
        raise ConfigError(f"{name}: {value!r} has a query or fragment: a key is appended to it, so it may not")
    if parts.username is not None or parts.password is not None:
        raise ConfigError(f"{name}: {value!r} holds credentials ('user@'): a page would publish them")
    return f"{scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def parse_bool(name: str, value: str | None, default: bool) -> bool:
    if value is None or not value.strip():
        return default
    if value.strip().lower() in _TRUE:
        return True
    if value.strip().lower() in _FALSE:
        return False
    raise ConfigError(f"{name}: {value!r} is not true or false")


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
    """Blank means the default; '50_000_000' reads as Python would write it, but not as int()
    reads it: '__8_5' or Arabic-Indic digits are refused, not taken for 85 or 3."""
    if value is None or not value.strip():
        return default
    try:
        number = int(value.strip()) if _WHOLE_NUMBER.fullmatch(value.strip()) else None
    except ValueError:  # over int()'s 4,300 digits
        number = None
    if number is None:
        raise ConfigError(f"{name}: {value!r} is not a whole number (ASCII digits, as in 50_000_000)")
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


def read_rules_text(value: str | None, task_root: str | None) -> str | None:
    """THUMBNAIL_RULES is JSON itself (it starts with '{'), or the name of a JSON file in the
    artifact (beside create_thumbnail/, i.e. in src/), read relative to LAMBDA_TASK_ROOT."""
    if value is None or not value.strip():
        return None
    if value.lstrip().startswith(("{", "[")):
        return value
    path = Path(task_root or os.getcwd()) / value.strip()
    try:
        return path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"{THUMBNAIL_RULES}: cannot read {str(path)!r}: {error.strerror}") from None


_RULE_FIELDS = {"sizes", "formats", "gravity", "page", "poster"}


def parse_rules(name: str, text: str | None, default: Rule) -> tuple[Rule, ...]:
    """{"avatars/": {"sizes": "64x64:cover", "formats": "webp,jpeg", "gravity": "attention"},
    "reports/": {"page": "2"}}: each field optional (the plain setting stands in), longest prefix
    first."""
    if text is None:
        return ()
    try:
        document = json.loads(text, object_pairs_hook=_Members)
    except ValueError as error:
        raise ConfigError(f"{name}: not JSON ({error})") from None
    if not isinstance(document, _Members):
        raise ConfigError(f"{name}: expected an object of key prefix -> rule")
    members = _unique(name, document, "the prefix")
    rules = [_rule(name, prefix, fields, default) for prefix, fields in members.items()]
    return tuple(sorted(rules, key=lambda rule: len(rule.prefix or ""), reverse=True))


class _Members(list[tuple[str, Any]]):
    """A JSON object's members in order, repeats kept: json.loads would keep only the last of
    a repeated key, silently."""


def _unique(name: str, members: _Members, what: str) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in members:
        if key in seen:
            raise ConfigError(f"{name}: {what} {key!r} is given twice (JSON would keep only the last)")
        seen[key] = value
    return seen


def _rule(name: str, prefix: str, fields: Any, default: Rule) -> Rule:
    where = f"{name}[{prefix!r}]"
    if not prefix:
        raise ConfigError(f"{name}: a rule's key prefix may not be empty (the plain settings are that rule)")
    if isinstance(fields, _Members):
        fields = _unique(where, fields, "the field")
    if not isinstance(fields, dict) or not set(fields) <= _RULE_FIELDS:
        raise ConfigError(f"{where}: expected an object with only {', '.join(sorted(_RULE_FIELDS))}")
    if not all(isinstance(value, str) for value in fields.values()):
        raise ConfigError(f"{where}: every value is a string, as in the environment variables")
    return Rule(
        sizes=parse_sizes(f"{where}.sizes", fields["sizes"]) if "sizes" in fields else default.sizes,
        encoding=replace(default.encoding, formats=parse_formats(f"{where}.formats", fields.get("formats"), default.encoding.formats)),
        gravity=parse_gravity(f"{where}.gravity", fields.get("gravity"), default.gravity),
        prefix=prefix,
        reading=replace(
            default.reading,
            page=parse_page(f"{where}.page", fields.get("page"), default.reading.page),
            poster=parse_poster(f"{where}.poster", fields.get("poster"), default.reading.poster),
        ),
    )
