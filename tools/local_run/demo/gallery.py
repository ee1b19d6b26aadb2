"""out/index.html: every source beside its renditions, built from the manifests alone (only the
credits of files someone else made, and the origin of those made here, come from the demo), as an
application that shows thumbnails would build its pages.

Each source is a <picture>: an AVIF and a WebP <source> where those renditions exist, an <img>
of the source's own format last, every one with a srcset of the fit renditions' widths, so the
browser picks the format it can show and the width the layout needs. The BlurHash is painted
behind the image until it has loaded (a 40-line decoder in the page; the dominant colour first,
before any script runs). Cover renditions follow as they are. Sizes and bytes under each, and
for a source someone else made (the demo's PDF, SVG and video), where it came from and its licence;
for one made here in a device's format (the demo's DNG), that it was, and from what.

Every image's address is the url the manifest gives its rendition (DELIVERY_BASE_URL), never one
built here from its key: a page that builds URLs itself breaks on keys with '#', '%' or '?', and
disagrees with the function about where the bucket is served. A rendition without a url (a key
no URL can reach) is left out.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

# The layout: two columns up to 700 px wide, three beyond; what the browser's choice follows.
SIZES = "(max-width: 700px) 50vw, 33vw"
PREFERRED = ("avif", "webp")  # as <source> elements, in this order; the <img> takes the rest


def read_manifests(folder: Path) -> list[dict[str, Any]]:
    return [json.loads(path.read_text(encoding="utf-8")) for path in sorted(folder.rglob("*.json"))]


def srcsets(manifest: Mapping[str, Any]) -> dict[str, str]:
    """format -> 'url 256w, url 1024w' over the fit renditions; one URL per width (a small
    source is the same size in every box it fits: its first box's url serves)."""
    found: dict[str, dict[int, str]] = {}
    for rendition in _shown(manifest):
        if rendition["fit"] == "inside":
            found.setdefault(rendition["format"], {}).setdefault(rendition["width"], rendition["url"])
    return {fmt: ", ".join(f"{url} {width}w" for width, url in sorted(by_width.items())) for fmt, by_width in found.items()}


def _shown(manifest: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [rendition for rendition in manifest["renditions"] if rendition.get("url")]


def fallback_format(formats: Iterable[str]) -> str:
    """What the <img> itself shows: the rendition every browser can (JPEG, PNG, GIF), else WebP."""
    formats = list(formats)
    return next((f for f in formats if f not in PREFERRED), "webp" if "webp" in formats else formats[0])


def _figure(manifest: Mapping[str, Any], credit: str | None = None) -> str:
    source = manifest["source"]
    sets = srcsets(manifest)
    placeholder = manifest["placeholder"]
    img_format = fallback_format(sets)
    first = next(r for r in _shown(manifest) if r["fit"] == "inside" and r["format"] == img_format)
    sources = "".join(f'<source type="image/{fmt}" srcset="{html.escape(sets[fmt])}" sizes="{SIZES}">'
                      for fmt in PREFERRED if fmt in sets and fmt != img_format)  # fmt: skip
    img = (f'<img src="{html.escape(first["url"])}" srcset="{html.escape(sets[img_format])}" sizes="{SIZES}" '
           f'width="{first["width"]}" height="{first["height"]}" alt="{html.escape(source["key"])}" '
           f'data-blurhash="{html.escape(placeholder["blurhash"])}" '
           f'style="background-color:{placeholder["dominant_color"]}">')  # fmt: skip
    covers = "".join(f'<img class="cover" src="{html.escape(r["url"])}" width="{r["width"]}" height="{r["height"]}" '
                     f'alt="{html.escape(r["box"])} cover">'
                     for r in _shown(manifest) if r["fit"] == "cover" and r["format"] == img_format)  # fmt: skip
    rows = "".join(f"<li>{html.escape(r['box'])} {r['fit']} {r['format']}: {r['width']}×{r['height']}, "
                   f"{r['bytes']:,} bytes</li>" for r in manifest["renditions"])  # fmt: skip
    credited = f'<p class="credit">{html.escape(credit)}</p>' if credit else ""
    return (f'<figure data-key="{html.escape(source["key"])}"><picture>{sources}{img}</picture>'
            f'<div class="covers">{covers}</div><figcaption><b>{html.escape(source["key"])}</b> '
            f'{source["width"]}×{source["height"]}, {source["size"]:,} bytes<ul>{rows}</ul>{credited}'
            f'</figcaption></figure>')


STYLE = """
body { font: 14px system-ui, sans-serif; margin: 16px; background: #fafafa; color: #222; }
.grid { display: grid; grid-template-columns: repeat(3, 1fr); gap: 16px; }
@media (max-width: 700px) { .grid { grid-template-columns: repeat(2, 1fr); } }
figure { margin: 0; padding: 8px; background: #fff; border: 1px solid #ddd; }
picture img { width: 100%; height: auto; display: block; background-size: cover; }
.covers img { margin: 6px 6px 0 0; }
figcaption ul { margin: 4px 0 0; padding-left: 18px; color: #555; font-size: 12px; }
.credit { margin: 4px 0 0; color: #555; font-size: 12px; font-style: italic; }
"""

# BlurHash decoding (Wolt's algorithm) into a small canvas, shown behind each image until it loads.
SCRIPT = r"""
const B83 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~";
const d83 = s => [...s].reduce((v, c) => v * 83 + B83.indexOf(c), 0);
const lin = v => { v /= 255; return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
const srgb = v => { v = Math.max(0, Math.min(1, v));
  return Math.round(v <= 0.0031308 ? v * 12.92 * 255 : (1.055 * Math.pow(v, 1 / 2.4) - 0.055) * 255); };
const spow = (v, e) => Math.sign(v) * Math.pow(Math.abs(v), e);
function decodeBlurHash(hash, w, h) {
  const size = d83(hash[0]), nx = size % 9 + 1, ny = Math.floor(size / 9) + 1;
  const max = (d83(hash[1]) + 1) / 166, colours = [];
  const dc = d83(hash.slice(2, 6));
  colours.push([lin(dc >> 16), lin((dc >> 8) & 255), lin(dc & 255)]);
  for (let i = 1; i < nx * ny; i++) {
    const v = d83(hash.slice(4 + i * 2, 6 + i * 2));
    colours.push([Math.floor(v / 361), Math.floor(v / 19) % 19, v % 19].map(q => spow((q - 9) / 9, 2) * max));
  }
  const pixels = new Uint8ClampedArray(w * h * 4);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    let r = 0, g = 0, b = 0;
    for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) {
      const basis = Math.cos(Math.PI * x * i / w) * Math.cos(Math.PI * y * j / h), c = colours[i + j * nx];
      r += c[0] * basis; g += c[1] * basis; b += c[2] * basis;
    }
    pixels.set([srgb(r), srgb(g), srgb(b), 255], 4 * (x + y * w));
  }
  return pixels;
}
for (const img of document.querySelectorAll("img[data-blurhash]")) {
  const canvas = document.createElement("canvas");
  canvas.width = 32; canvas.height = 32;
  canvas.getContext("2d").putImageData(new ImageData(decodeBlurHash(img.dataset.blurhash, 32, 32), 32, 32), 0, 0);
  const loaded = () => { img.style.backgroundImage = ""; img.style.backgroundColor = ""; };
  if (img.complete) loaded(); else img.style.backgroundImage = `url(${canvas.toDataURL()})`;
  img.dataset.placeholder = "drawn";
  img.addEventListener("load", loaded);
}
// ?measure: the page's height, for a screenshot of all of it.
if (location.search === "?measure") addEventListener("load", () => {
  document.body.dataset.height = document.documentElement.scrollHeight;
});
"""


def write_gallery(out_dir: Path, manifests: list[dict[str, Any]], credits: Mapping[str, str] | None = None) -> Path:
    """index.html in out_dir; its images are wherever the manifests' urls say. credits: source
    key -> where a file someone else made came from, and its licence, or what a file made here
    in a device's format was made from, shown under it."""
    credits = credits or {}
    figures = "\n".join(_figure(m, credits.get(m["source"]["key"])) for m in manifests
                         if any(r["fit"] == "inside" for r in _shown(m)))  # fmt: skip
    page = (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>Thumbnails</title>"
            f"<meta name=viewport content='width=device-width'><style>{STYLE}</style></head><body>"
            f"<h1>{len(manifests)} sources, from their manifests</h1><section class=grid>{figures}</section>"
            f"<script>{SCRIPT}</script></body></html>")  # fmt: skip
    path = out_dir / "index.html"
    path.write_text(page, encoding="utf-8")
    return path
