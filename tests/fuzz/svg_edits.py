"""SVG seeds' mutations: what a hostile document does to a renderer rather than to a decoder.
Each edits the text of an SVG seed (inflating and compressing again an .svgz) and says what it did.

resvg renders in a child process (svg.py), whose memory the worker's VmHWM does not see: the
child's own address-space limit holds it instead, and what is judged here is the outcome. Most
giant filters end at the child's 5 s CPU limit, so that class runs few inputs.
"""

from __future__ import annotations

import base64
import gzip
import re
from collections.abc import Callable
from random import Random

from local_run.inputs.samples import encode
from PIL import Image

from tests.fuzz.seeds import SVG, Seed

Mutated = tuple[bytes, str]
_ROOT = re.compile(rb"<svg\b[^>]*>")


def is_svg(seed: Seed) -> bool:
    return seed.format == SVG


def _edit(data: bytes, change: Callable[[bytes], bytes]) -> bytes:
    """change(text) on the document, inside its gzip if it is an .svgz."""
    if data.startswith(b"\x1f\x8b"):
        return gzip.compress(change(gzip.decompress(data)), mtime=0)
    return change(data)


def _inside_root(data: bytes, before: bytes, after: bytes = b"") -> bytes:
    """before right after the root's start tag, after right before its (last) end tag."""

    def change(text: bytes) -> bytes:
        opened = _ROOT.sub(lambda match: match.group(0) + before, text, count=1)
        head, end, tail = opened.rpartition(b"</svg>")
        return head + after + end + tail

    return _edit(data, change)


def root_size(data: bytes, seed: Seed, rng: Random) -> Mutated:
    """The root's width, height or viewBox set to an edge: huge, tiny, zero, negative, in units."""
    value = rng.choice(["0", "-10", "1e9", "65536", "100000in", "0.0001", "1e-30", "100%", "5em", "3e38mm", "nan"])
    attribute = rng.choice(["width", "height", "viewBox"])
    if attribute == "viewBox":
        value = rng.choice(["0 0 0 0", f"0 0 {value} 1", f"0 0 1 {value}", "0 0 1e9 1", "1 2 3"])

    def change(text: bytes) -> bytes:
        tag = _ROOT.search(text).group(0)
        edited = re.sub(rb'\s' + attribute.encode() + rb'="[^"]*"', b"", tag)
        return text.replace(tag, edited[:-1] + f' {attribute}="{value}">'.encode(), 1)

    return _edit(data, change), f"root {attribute}={value!r}"


def deep_nesting(data: bytes, seed: Seed, rng: Random) -> Mutated:
    """The drawing wrapped in 100 to 2,000 groups (resvg crashed the process at 256 on 8 MB)."""
    depth = rng.choice([100, 200, 255, 300, 1000, 2000])
    return _inside_root(data, b"<g>" * depth, b"</g>" * depth), f"{depth} nested groups"


def use_chain(data: bytes, seed: Seed, rng: Random) -> Mutated:
    """<use> chains: doubling (2^n copies) or linear, each level optionally in nested groups."""
    levels, doubling, groups = rng.randrange(5, 40), rng.random() < 0.5, rng.choice([0, 10, 50])
    parts = ['<rect id="u0" width="3" height="3" fill="teal"/>']
    for i in range(1, levels + 1):
        uses = f'<use href="#u{i - 1}"/>' + (f'<use href="#u{i - 1}" x="2"/>' if doubling else "")
        parts.append(f'<g id="u{i}">' + "<g>" * groups + uses + "</g>" * groups + "</g>")
    chain = f'<defs>{"".join(parts)}</defs><use href="#u{levels}"/>'.encode()
    return _inside_root(data, chain), f"{'doubling' if doubling else 'linear'} <use> chain of {levels}, {groups} groups a level"


def giant_filter(data: bytes, seed: Seed, rng: Random) -> Mutated:
    """A filter region far larger than the drawing, a huge blur, many primitives, applied to
    many elements."""
    region = rng.choice(["-100000", "-1e7"])
    blur = rng.choice(["1000", "1e6", "50 0.01"])
    primitives = rng.choice([1, 20, 99, 101])
    uses = rng.choice([1, 50, 500])
    filter_ = (f'<filter id="fz" filterUnits="userSpaceOnUse" x="{region}" y="{region}" width="1e8" height="1e8">'
               + f'<feGaussianBlur stdDeviation="{blur}"/>' * primitives + "</filter>")  # fmt: skip
    rects = "".join(f'<rect x="{n % 50}" y="{n // 50}" width="9" height="9" filter="url(#fz)"/>' for n in range(uses))
    return _inside_root(data, (filter_ + rects).encode()), f"{primitives} blur(s) of {blur} over {region}, on {uses} element(s)"


def entities(data: bytes, seed: Seed, rng: Random) -> Mutated:
    """A DOCTYPE with entities: nested (the billion laughs), or one long one referenced often."""
    if rng.random() < 0.5:
        levels = rng.randrange(2, 10)
        declared = '<!ENTITY e0 "ha">' + "".join(f'<!ENTITY e{i} "{f"&e{i - 1};" * 10}">' for i in range(1, levels + 1))
        use, what = f"&e{levels};", f"entities nested {levels} deep"
    else:
        length, count = rng.choice([10, 1000, 10000]), rng.choice([10, 1000, 20000])
        declared, use, what = f'<!ENTITY e "{"x" * length}">', "&e;" * count, f"{count:,} references to {length:,} bytes"

    def change(text: bytes) -> bytes:
        text = re.sub(rb"<!DOCTYPE[^>]*>", b"", text)
        at = text.index(b"<svg")
        return text[:at] + f"<!DOCTYPE svg [{declared}]>".encode() + text[at:]

    return _inside_root(_edit(data, change), f"<desc>{use}</desc>".encode()), what


def embedded_image(data: bytes, seed: Seed, rng: Random) -> Mutated:
    """A data: PNG whose header claims another size (up to 2^31), or an SVG image inside an SVG
    image inside an SVG, or a path to a file."""
    kind = rng.choice(["png-size", "nested-svg", "path"])
    if kind == "png-size":
        png = bytearray(encode(Image.new("RGB", (8, 8), (200, 0, 0)), "PNG"))
        width, height = rng.choice([1, 8, 20000, 65536, 2**31 - 1]), rng.choice([1, 8, 20000, 65536])
        png[16:24] = width.to_bytes(4, "big") + height.to_bytes(4, "big")
        href, what = "data:image/png;base64," + base64.b64encode(bytes(png)).decode(), f"a PNG claiming {width}x{height}"
    elif kind == "nested-svg":
        inner = b'<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"><rect width="5" height="5"/></svg>'
        for _ in range(rng.randrange(1, 4)):
            inner = (b'<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"><image width="9" height="9" href="data:image/svg+xml;base64,'
                     + base64.b64encode(inner) + b'"/></svg>')  # fmt: skip
        href, what = "data:image/svg+xml;base64," + base64.b64encode(inner).decode(), "nested SVG images"
    else:
        href = rng.choice(["/dev/zero", "/dev/stdin", "/proc/self/mem", "/etc/passwd", "../../etc/hostname"])
        what = f"an image at {href}"
    return _inside_root(data, f'<image width="50" height="50" href="{href}"/>'.encode()), what
