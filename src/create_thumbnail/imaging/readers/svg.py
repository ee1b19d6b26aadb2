"""SVG -> Loaded: a vector drawing rendered by resvg at the size the largest box needs.

resvg (Rust, through the resvg-py binding) runs no script, renders no foreignObject, and makes no
network request. But its default image loader, which the binding does not let us replace, opens
any <image> or <feImage> href that is not a data: URL as a file path: absolute, or relative to the
working directory (tests/unit/test_svg.py shows it reading a PNG it was pointed at, and it would
read /dev/zero until memory ran out). So resvg is never given the uploaded bytes. They are parsed
here by the standard library's expat and written out again (rewrite), keeping only:

- elements and attributes of the SVG namespace (plus xlink:href and xml:space); no DOCTYPE, no
  entity (expat expands the internal ones, after a bound on what they can expand to), no
  processing instruction, no comment;
- on <image> and <feImage>, an href only when it is a data: URL holding a PNG, JPEG, GIF or WebP
  whose header is within the limits, or an SVG, itself rewritten (one level: an SVG inside that
  keeps no SVG images). Every other href is dropped, and the element draws nothing, as a browser
  draws nothing for it in an <img>;
- a root sized in pixels: width and height the render's, and a viewBox (the document's own, or
  its intrinsic size's), so that resvg draws exactly the pixels asked for, never the full size.

Limits checked while rewriting, each a permanent failure: elements, nesting depth, filter
primitives, entity expansion, the rewritten text's length; then the render's pixels against
MAX_SOURCE_PIXELS, its shape (budget.check_shape), and the memory budget. What cannot be told
from the text is bounded by the kernel: resvg renders in a forked child process limited to
RENDER_CPU_S of CPU and to the estimate's memory (99 blurs on 500 elements ran for minutes;
the child is killed at 5 s, ImageTooLarge). resvg recurses about 32 KB of stack per level of
nesting (it crashed the process at 256 levels on an 8 MB stack), and its own limit is about
1,024 levels after <use> is expanded: in the child it renders on a thread whose stack holds
twice that.

Text is drawn only with fonts resvg is given, and it is given none (reading the system's would be
reading the filesystem for an SVG): <text> draws nothing. Documented in docs/configuration.md.
"""

from __future__ import annotations

import base64
import binascii
import faulthandler
import math
import os
import re
import resource
import select
import signal
import threading
import time
import warnings
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any
from urllib.parse import unquote_to_bytes
from xml.parsers import expat
from xml.sax.saxutils import escape, quoteattr

from PIL import Image

from create_thumbnail.imaging.budget import Budget, Header, check_memory, check_shape, estimate_peak
from create_thumbnail.config import Box
from create_thumbnail.errors import ImageTooLarge, NotAnImage
from create_thumbnail.imaging.readers import Loaded
from create_thumbnail.imaging.readers.decoding import decoding
from create_thumbnail.imaging.renditions import box_scale

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
XML_NS = "http://www.w3.org/XML/1998/namespace"

# How far into the file the root element must start (after a BOM, XML declaration, comments and
# a DOCTYPE, whose internal subset an illustration program may fill with entities).
SNIFF_BYTES = 8192
# Elements in the document (a large illustration here has ~9,000; resvg's own limit is 1,000,000
# after <use> is expanded, which took 0.25 s to reach), nesting depth (a hand-drawn file ~20),
# filter primitives (2,000 blurs in one filter: 10 s and 737 MB at 256 px; 100 took 0.5 s).
MAX_ELEMENTS = 100_000
MAX_DEPTH = 256
MAX_FILTER_PRIMITIVES = 100
# What entities may expand to, and the rewritten document's length (also an .svgz's inflated size).
MAX_EXPANSION = 16 * 1024 * 1024
MAX_TEXT_BYTES = 64 * 1024 * 1024
# A document with neither a size nor a viewBox: a browser's default for a replaced element.
DEFAULT_SIZE = (300.0, 150.0)
# CSS units in pixels; em and ex against resvg's default font size of 16 px.
_UNITS = {"": 1.0, "px": 1.0, "pt": 4 / 3, "pc": 16.0, "mm": 96 / 25.4, "cm": 96 / 2.54, "in": 96.0,
          "em": 16.0, "ex": 8.0}  # fmt: skip
_LENGTH = re.compile(r"^\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*(px|pt|pc|mm|cm|in|em|ex|%)?\s*$")
_ROOT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?svg[\s/>]")
_RASTERS = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}
# The render thread's stack: resvg's ~1,024 levels at ~32 KB each, twice (an SVG <image> inside).
_STACK_BYTES = 256 * 1024 * 1024
# The render's child process: CPU (the slowest real file here renders in 0.2 s), the wall clock
# for a child that waits instead of spinning, and the address space beyond the estimate (the
# thread's stack, malloc's arenas for it, resvg's own code).
RENDER_CPU_S = 5
RENDER_WALL_S = 60.0
_CHILD_SLACK_BYTES = 512 * 1024 * 1024
# Memory beside the Pillow side's (budget.estimate_peak of the RGBA render): resvg's pixmap and
# the un-premultiplied copy it encodes as PNG, and the PNG; the parsed trees per byte of rewritten
# text; an embedded raster decoded to RGBA (and premultiplied); fixed state. Measured by
# benchmarks/svg_bench.py and rounded up (docs/performance.md, "SVG").
_RENDER_BYTES_PER_PIXEL = 12.0
_TREE_BYTES_PER_TEXT_BYTE = 12.0
_EMBEDDED_BYTES_PER_PIXEL = 8.0
_RENDER_FIXED_BYTES = 16 * 1024 * 1024
_STACK_BYTES_PER_LEVEL = 40 * 1024
# resvg keeps each filter primitive's result, at up to the canvas' size, RGBA, and a working copy.
_FILTER_BYTES_PER_PIXEL = 8.0


def looks_like_svg(data: bytes) -> bool:
    """An <svg> root element within the first SNIFF_BYTES, after an optional BOM, XML declaration,
    comments and DOCTYPE; or the same, gzip-compressed (.svgz)."""
    head = data[:SNIFF_BYTES]
    if head.startswith(b"\x1f\x8b"):
        try:
            head = zlib.decompressobj(wbits=31).decompress(data[: 4 * SNIFF_BYTES], SNIFF_BYTES)
        except zlib.error:
            return False
    head = head.removeprefix(b"\xef\xbb\xbf")
    position = 0
    while True:
        while position < len(head) and head[position] in b" \t\r\n":
            position += 1
        if head.startswith(b"<?", position):
            position = _after(head, b"?>", position)
        elif head.startswith(b"<!--", position):
            position = _after(head, b"-->", position)
        elif head.startswith(b"<!DOCTYPE", position):
            subset, close = head.find(b"[", position), head.find(b">", position)
            position = _after(head, b"]", subset) if -1 < subset < close else position
            position = _after(head, b">", position) if position >= 0 else -1
        else:
            return _ROOT.match(head, position) is not None
        if position < 0:
            return False


def _after(head: bytes, end: bytes, start: int) -> int:
    found = head.find(end, start)
    return -1 if found < 0 else found + len(end)


def intrinsic_size(width: str | None, height: str | None, view_box: str | None) -> tuple[float, float]:
    """The document's size in CSS pixels, as a browser sizes an <img> of it: width and height
    (px, pt, pc, mm, cm, in, em, ex); a missing one, or a percentage, from the viewBox's aspect;
    neither: the viewBox's own size; no viewBox either: DEFAULT_SIZE. A zero or negative size is
    NotAnImage: nothing would be drawn."""
    box = parse_view_box(view_box)
    w, h = parse_length(width), parse_length(height)
    if w is None and h is None:
        return box[2:] if box else DEFAULT_SIZE
    if w is not None and h is not None:
        return w, h
    if box is None:
        return (w if w is not None else DEFAULT_SIZE[0]), (h if h is not None else DEFAULT_SIZE[1])
    if w is not None:
        return w, w * box[3] / box[2]
    assert h is not None
    return h * box[2] / box[3], h


def parse_length(value: str | None) -> float | None:
    """A length in CSS pixels; None for none, a percentage or nonsense (both taken as absent, as
    browsers do). NotAnImage for zero, negative or infinite."""
    match = _LENGTH.match(value or "")
    if not match or match.group(2) == "%":
        return None
    pixels = float(match.group(1)) * _UNITS[match.group(2) or ""]
    if not math.isfinite(pixels) or pixels <= 0:
        raise NotAnImage(f"an SVG of width or height {value!r}: nothing to draw")
    return pixels


def parse_view_box(value: str | None) -> tuple[float, float, float, float] | None:
    """min-x, min-y, width, height; None when absent or invalid (ignored, as browsers do)."""
    try:
        numbers = [float(part) for part in re.split(r"[\s,]+", (value or "").strip())]
    except ValueError:
        return None
    if len(numbers) != 4 or not all(map(math.isfinite, numbers)) or numbers[2] <= 0 or numbers[3] <= 0:
        return None
    return numbers[0], numbers[1], numbers[2], numbers[3]


def render_size(intrinsic: tuple[float, float], boxes: Sequence[Box]) -> tuple[int, int]:
    """The pixels to render: the intrinsic size scaled (up or down: it is a vector) until it just
    covers the largest box's need, fitting inside a fit box or covering a cover box, aspect kept."""
    width, height = intrinsic
    factor = max(box_scale(intrinsic, box) for box in boxes)
    return max(1, round(width * factor)), max(1, round(height * factor))


@dataclass
class _Counts:
    """Shared by a document and the SVG images rewritten inside it."""

    elements: int = 0
    primitives: int = 0
    embedded_pixels: int = 0
    deepest: int = 0
    uses: int = 0


@dataclass
class _Document:
    text: str
    intrinsic: tuple[float, float]
    root: dict[str, str] = field(default_factory=dict)


def load(data: bytes, boxes: Sequence[Box], max_pixels: int, budget: Budget = Budget(None)) -> Loaded:
    """Rendered at render_size, RGBA; no ICC profile; the intrinsic size (rounded) as the
    source's size. Every refusal is NotAnImage or ImageTooLarge, before resvg sees anything."""
    counts = _Counts()
    document = rewrite(_inflate(data), counts, max_pixels, nested_svgs=True)
    size = render_size(document.intrinsic, boxes)
    check_shape(size)
    if size[0] * size[1] > max_pixels:
        raise ImageTooLarge(f"rendering {size[0]}x{size[1]} is over the limit of {max_pixels:,} pixels")
    estimate = estimate_svg_peak(size, len(document.text), counts, boxes)
    check_memory(estimate, budget, held=len(data))
    png = _render(_sized(document, size), estimate)
    image = Image.open(BytesIO(png), formats=["PNG"])
    image.load()
    rendered = image if image.mode == "RGBA" else image.convert("RGBA")
    intrinsic = tuple(max(1, round(side)) for side in document.intrinsic)
    return Loaded(rendered, None, (intrinsic[0], intrinsic[1]))


def estimate_svg_peak(size: tuple[int, int], text_bytes: int, counts: _Counts, boxes: Sequence[Box]) -> int:
    pixels = size[0] * size[1]
    levels = 1024 if counts.uses else counts.deepest  # <use> can nest deeper than the text shows
    return math.ceil(
        estimate_peak(Header("RGB+alpha", 0), size, boxes, transposes=False)
        + _RENDER_BYTES_PER_PIXEL * pixels
        + _TREE_BYTES_PER_TEXT_BYTE * text_bytes
        + _EMBEDDED_BYTES_PER_PIXEL * counts.embedded_pixels
        + _STACK_BYTES_PER_LEVEL * levels
        + _FILTER_BYTES_PER_PIXEL * counts.primitives * pixels
        + _RENDER_FIXED_BYTES
    )


def _inflate(data: bytes) -> bytes:
    """An .svgz's document, up to MAX_TEXT_BYTES inflated."""
    if not data.startswith(b"\x1f\x8b"):
        return data
    inflater = zlib.decompressobj(wbits=31)
    try:
        text = inflater.decompress(data, MAX_TEXT_BYTES)
    except zlib.error as error:
        raise NotAnImage(f"a compressed SVG that does not inflate: {error}") from error
    if inflater.unconsumed_tail:
        raise ImageTooLarge(f"a compressed SVG that inflates past {MAX_TEXT_BYTES:,} bytes")
    return text


def rewrite(data: bytes, counts: _Counts, max_pixels: int, nested_svgs: bool) -> _Document:
    """The document as resvg will see it (the module's docstring says what is kept)."""
    writer = _Writer(data, counts, max_pixels, nested_svgs)
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.EntityDeclHandler = writer.entity
    parser.StartElementHandler = writer.start
    parser.EndElementHandler = writer.end
    parser.CharacterDataHandler = writer.characters
    parser.buffer_text = True
    try:
        parser.Parse(data, True)
    except expat.ExpatError as error:
        raise NotAnImage(f"not a well-formed SVG: {error}") from error
    if writer.root is None:
        raise NotAnImage("an XML document whose root is not an SVG element")
    text = "".join(writer.out)
    if len(text) > MAX_TEXT_BYTES:
        raise ImageTooLarge(f"an SVG of {len(text):,} characters once entities are expanded")
    root = writer.root
    return _Document(text, intrinsic_size(root.get("width"), root.get("height"), root.get("viewBox")), root)


class _Writer:
    """expat's handlers: check the limits and write the kept document out."""

    def __init__(self, data: bytes, counts: _Counts, max_pixels: int, nested_svgs: bool) -> None:
        self.data, self.counts, self.max_pixels, self.nested_svgs = data, counts, max_pixels, nested_svgs
        self.out: list[str] = []
        self.depth = 0
        self.skipping = 0  # depth inside an element of another namespace, whose subtree is dropped
        self.entity_length = 0
        self.root: dict[str, str] | None = None

    def entity(self, name: str, parameter: int, value: str | None, *_: Any) -> None:
        if value is None or parameter:
            return  # external or parameter: never loaded, never expanded in the document
        if "&" in value:
            raise ImageTooLarge(f"an SVG whose entity {name!r} refers to another (an entity bomb's shape)")
        self.entity_length = max(self.entity_length, len(value))

    def start(self, name: str, attributes: dict[str, str]) -> None:
        counts = self.counts
        counts.elements += 1
        self.depth += 1
        counts.deepest = max(counts.deepest, self.depth)
        if counts.elements > MAX_ELEMENTS:
            raise ImageTooLarge(f"an SVG of more than {MAX_ELEMENTS:,} elements")
        if self.depth > MAX_DEPTH:
            raise ImageTooLarge(f"an SVG nested more than {MAX_DEPTH} elements deep")
        if self.root is None:
            self._first(name, attributes)
        namespace, _, local = name.rpartition(" ")
        if self.skipping or namespace != SVG_NS:
            self.skipping += 1
            return
        if local.startswith("fe"):
            counts.primitives += 1
            if counts.primitives > MAX_FILTER_PRIMITIVES:
                raise ImageTooLarge(f"an SVG of more than {MAX_FILTER_PRIMITIVES} filter primitives")
        counts.uses += local == "use"
        kept = self._attributes(local, attributes)
        if self.root is None:
            self.root = kept  # its start tag is written by _sized, once the render's size is known
            return
        self.out.append(f"<{local}{''.join(f' {key}={quoteattr(value)}' for key, value in kept.items())}>")

    def _first(self, name: str, attributes: dict[str, str]) -> None:
        """Before the first element's content: nothing has been expanded yet, and every
        reference to an entity is a '&' in the bytes, so this bounds the expansion."""
        if name != f"{SVG_NS} svg":
            raise NotAnImage(f"an XML document whose root is {name.rpartition(' ')[2]!r}, not an SVG element")
        if self.entity_length and self.data.count(b"&") * self.entity_length > MAX_EXPANSION:
            raise ImageTooLarge(f"an SVG whose entities could expand past {MAX_EXPANSION:,} bytes")

    def _attributes(self, local: str, attributes: dict[str, str]) -> dict[str, str]:
        kept = {}
        for name, value in attributes.items():
            namespace, _, attribute = name.rpartition(" ")
            if namespace == XLINK_NS and attribute == "href":
                name = "xlink:href"
            elif namespace == XML_NS:
                name = f"xml:{attribute}"
            elif namespace:
                continue
            if local in ("image", "feImage") and name in ("href", "xlink:href"):
                value = self._embedded(value)
                if value is None:
                    continue
            kept[name] = value
        return kept

    def _embedded(self, href: str) -> str | None:
        """An image's href as resvg may have it: a data: URL written out again, or None."""
        decoded = _data_url(href)
        if decoded is None:
            return None
        if looks_like_svg(decoded):
            if not self.nested_svgs:
                return None
            try:
                inner = rewrite(_inflate(decoded), self.counts, self.max_pixels, nested_svgs=False)
            except NotAnImage:
                return None  # resvg would skip it too; a limit reached inside still refuses the whole
            sized = _sized(inner, None)
            return "data:image/svg+xml;base64," + base64.b64encode(sized.encode()).decode("ascii")
        try:
            with decoding():
                image = Image.open(BytesIO(decoded), formats=list(_RASTERS))
        except NotAnImage:
            return None
        check_shape(image.size)
        pixels = image.width * image.height
        if pixels > self.max_pixels:
            raise ImageTooLarge(f"an SVG holding a {image.width}x{image.height} image, over the pixel limit")
        self.counts.embedded_pixels += pixels
        return f"data:{_RASTERS[image.format]};base64," + base64.b64encode(decoded).decode("ascii")

    def end(self, name: str) -> None:
        self.depth -= 1
        if self.skipping:
            self.skipping -= 1
            return
        self.out.append(f"</{name.rpartition(' ')[2]}>")

    def characters(self, text: str) -> None:
        if self.root is not None and not self.skipping:
            self.out.append(escape(text))


def _data_url(href: str) -> bytes | None:
    """A data: URL's bytes (base64 or percent-encoded); None for anything else."""
    if href[:5].lower() != "data:":
        return None
    head, comma, payload = href[5:].partition(",")
    if not comma:
        return None
    if "base64" in (part.strip().lower() for part in head.split(";")[1:]):
        packed = re.sub(r"\s+", "", payload)
        try:
            return base64.b64decode(packed + "=" * (-len(packed) % 4), validate=True)
        except (binascii.Error, ValueError):
            return None
    return unquote_to_bytes(payload)


def _sized(document: _Document, size: tuple[int, int] | None) -> str:
    """The document with its root's start tag: width and height in pixels (the render's, or the
    intrinsic size's for an SVG inside another) and a viewBox, the document's own or its size's."""
    root = dict(document.root)
    width, height = size or document.intrinsic
    root["width"], root["height"] = str(width), str(height)
    if parse_view_box(root.get("viewBox")) is None:
        root["viewBox"] = f"0 0 {document.intrinsic[0]} {document.intrinsic[1]}"
    root.pop("x", None), root.pop("y", None)
    attributes = "".join(f" {key}={quoteattr(value)}" for key, value in root.items())
    return f'<svg xmlns="{SVG_NS}" xmlns:xlink="{XLINK_NS}"{attributes}>' + document.text


def _render(text: str, memory: int) -> bytes:
    """resvg's PNG of the document, rendered in a child process (forked: nothing to start) that
    the kernel stops past RENDER_CPU_S of CPU or memory more than the estimate allows: how long a
    drawing takes to render cannot be told from its text (99 blurs on 500 elements ran for
    minutes), and resvg cannot be interrupted from Python. Its complaints about the document
    are NotAnImage; its element limit, CPU and memory are ImageTooLarge."""
    import resvg_py  # in the parent: the child must not import (or read anything) itself

    read_end, write_end = os.pipe()
    with warnings.catch_warnings():  # fork() in a process with threads (the tests' moto server)
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # pragma: no cover - the child, measured by what the parent receives
        os.close(read_end)
        _child(resvg_py, text, memory, write_end)
    os.close(write_end)
    reply = _read_all(read_end, pid)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status) or not reply:
        raise _killed(os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0)
    kind, _, payload = reply.partition(b"\0")
    if kind == b"png":
        return payload
    message = payload.decode(errors="replace")
    if kind == b"bug":
        raise RuntimeError(f"the SVG render's child process failed: {message}")
    if kind == b"limit":
        raise ImageTooLarge(f"resvg: {message}")
    raise NotAnImage(f"resvg could not render the SVG: {message}")


def _child(resvg_py: Any, text: str, memory: int, write_end: int) -> None:
    """Render, send the outcome, and exit without running anything of the parent's."""
    try:
        faulthandler.disable()  # a crash or an abort is the parent's to report, once
        resource.setrlimit(resource.RLIMIT_CPU, (RENDER_CPU_S, RENDER_CPU_S + 1))
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        wanted = _address_space() + memory + _CHILD_SLACK_BYTES
        limit = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
        outcome = _on_deep_stack(resvg_py, text)
    except BaseException as error:  # noqa: BLE001 - told to the parent, which raises it as a bug
        outcome = b"bug\0" + f"{type(error).__name__}: {error}".encode()
    try:
        with os.fdopen(write_end, "wb") as pipe:
            pipe.write(outcome)
    finally:
        os._exit(0)


def _on_deep_stack(resvg_py: Any, text: str) -> bytes:
    """The render on a thread whose stack holds resvg's recursion (the module's docstring)."""
    outcome: list[bytes] = []

    def work() -> None:
        try:
            outcome.append(b"png\0" + resvg_py.svg_to_bytes(svg_string=text, skip_system_fonts=True, dpi=96.0))
        except ValueError as error:
            kind = b"limit" if "limit" in str(error) else b"error"
            outcome.append(kind + b"\0" + str(error).encode())
        except BaseException as error:  # noqa: BLE001 - a Rust panic arrives as a BaseException
            outcome.append(b"error\0" + f"{type(error).__name__}: {error}".encode())

    threading.stack_size(_STACK_BYTES)  # the child's own setting: it exits after this one thread
    thread = threading.Thread(target=work, name="svg-render")
    thread.start()
    thread.join()
    return outcome[0]


def _read_all(read_end: int, pid: int) -> bytes:
    """The child's reply; the child killed if it is still silent after RENDER_WALL_S."""
    chunks = []
    deadline = time.monotonic() + RENDER_WALL_S
    with os.fdopen(read_end, "rb", buffering=0) as pipe:
        while True:
            ready, _, _ = select.select([pipe], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                os.kill(pid, signal.SIGKILL)
                return b""
            chunk = pipe.read(1 << 20)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)


def _killed(signal_number: int) -> Exception:
    if signal_number in (signal.SIGXCPU, signal.SIGKILL):
        return ImageTooLarge(f"an SVG that takes more than {RENDER_CPU_S} s of CPU to render")
    if signal_number == signal.SIGABRT or signal_number == 0:
        return ImageTooLarge("an SVG whose render ran out of the memory allowed")
    return NotAnImage(f"an SVG that crashed the renderer (signal {signal_number})")


def _address_space() -> int:
    """This process's virtual size: the child starts as a copy, and its limit is added to it."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0
