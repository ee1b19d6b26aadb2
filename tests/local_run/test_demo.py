"""The demo through the real runtime: every sample goes to the built artifact under the
emulator, and each outcome is checked as the in-process demo checks it."""

from __future__ import annotations

import html
import io
import json
import re
from pathlib import Path
from urllib.parse import quote

import pytest
from local_run.demo.command import offline_manifest, run_demo
from local_run.inputs.samples import FIXTURES, PDF_SAMPLE, SVG_SAMPLE, RealFile
from local_run.runtime.function import LocalFunction
from PIL import Image

pytestmark = pytest.mark.slow


def test_demo_under_the_emulator_gives_the_expected_outcome_for_every_sample(
    thumbnail_function: LocalFunction, tmp_path: Path
) -> None:
    stream = io.StringIO()
    code = run_demo(
        tmp_path / "out",
        stream=stream,
        runtime="rie",
        as_json=True,
        template=thumbnail_function.template,
        build_root=thumbnail_function.build_root,
    )
    document = json.loads(stream.getvalue())
    assert (code, document["problems"]) == (0, [])
    rows = document["rows"]
    assert {row["status"] for row in rows} == {"created", "skipped", "failed"}
    assert all(row["report"] is not None for row in rows)
    inits = [row["report"]["init_duration_ms"] for row in rows]
    assert inits[0] > 0 and inits[1:] == [None] * (len(rows) - 1)  # one execution environment
    assert document["init_ms"] == inits[0]
    out = tmp_path / "out"
    written = [p for box in ("256x256", "1024x1024", "150x150-cover") for p in (out / box).rglob("*.*")]
    assert len(written) == sum(len(row["thumbnails"]) for row in rows)
    spinner = next(row for row in rows if row["key"] == "graphics/spinner.gif")
    gifs = [t for t in spinner["thumbnails"] if t["content_type"] == "image/gif"]
    assert {t["key"] for t in gifs} == {"256x256/graphics/spinner.gif", "1024x1024/graphics/spinner.gif",
                                        "150x150-cover/graphics/spinner.gif"}  # fmt: skip
    for gif in gifs:
        with Image.open(out / gif["key"]) as image:
            assert image.n_frames == 8  # still animated
    heic = next(row for row in rows if row["key"] == "phone/IMG_0001.heic")
    assert {t["key"] for t in heic["thumbnails"] if t["content_type"] == "image/jpeg"} == {
        "256x256/phone/IMG_0001.heic.jpg", "1024x1024/phone/IMG_0001.heic.jpg", "150x150-cover/phone/IMG_0001.heic.jpg"}
    # the built artifact renders a PDF (PDFium) and an SVG (resvg), as the in-process demo does
    for key, content_type, suffix in (("docs/chapter-with-photo.pdf", "image/jpeg", "jpg"),
                                      ("graphics/arbelos.svg", "image/png", "png")):  # fmt: skip
        row = next(row for row in rows if row["key"] == key)
        assert row["status"] == "created" and row["credit"]
        assert {t["key"] for t in row["thumbnails"] if t["content_type"] == content_type} == {
            f"{box}/{key}.{suffix}" for box in ("256x256", "1024x1024", "150x150-cover")}


def test_default_demo_still_prints_the_table(demo_out: Path) -> None:
    lines = (demo_out / "demo-output.txt").read_text().splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("key "))
    assert lines[header].split() == [
        "key",
        "result",
        "source",
        "bytes",
        "thumbnail",
        "bytes",
        "ms",
        "reason",
        "/",
        "note",
    ]
    assert not any(line.startswith("{") for line in lines)  # the function's output is in its log


def test_the_demo_leaves_manifests_the_gallery_and_its_screenshot(demo_out: Path) -> None:
    manifests = sorted(p.relative_to(demo_out / "manifests").as_posix() for p in (demo_out / "manifests").rglob("*.json"))
    assert len(manifests) == 14 and "phone/IMG_0001.heic.json" in manifests
    for name in ("index.html", "gallery.png", "contact-sheet.png"):
        assert (demo_out / name).is_file()
    page = (demo_out / "index.html").read_text()
    assert page.count("<figure") == 14 and page.count('type="image/avif"') == 14


@pytest.mark.parametrize(("sample", "key", "fallback", "suffix"), [
    (PDF_SAMPLE, "docs/chapter-with-photo.pdf", "jpeg", "jpg"),  # a page is opaque: JPEG
    (SVG_SAMPLE, "graphics/arbelos.svg", "png", "png"),  # a drawing keeps its transparency: PNG
])  # fmt: skip
def test_the_gallery_shows_a_real_pdf_and_svg_with_where_each_came_from(
    demo_out: Path, sample: RealFile, key: str, fallback: str, suffix: str
) -> None:
    manifest = json.loads((demo_out / "manifests" / f"{key}.json").read_text(encoding="utf-8"))
    assert manifest["source"]["key"] == key and manifest["source"]["size"] == len(sample.read())
    formats = {(r["box"], r["format"]) for r in manifest["renditions"]}
    assert formats == {(box, fmt) for box in ("150x150", "256x256", "1024x1024") for fmt in ("avif", "webp", fallback)}
    for rendition in manifest["renditions"]:
        with Image.open(demo_out / rendition["key"]) as image:
            assert image.size == (rendition["width"], rendition["height"])
    page = (demo_out / "index.html").read_text()
    figure = re.search(f'<figure data-key="{re.escape(key)}">.*?</figure>', page, re.S)[0]
    assert f'type="image/{fallback}"' not in figure and quote(f"256x256/{key}.{suffix}", safe="/") in figure
    assert f'<p class="credit">{html.escape(sample.credit)}</p>' in figure
    output = (demo_out / "demo-output.txt").read_text()
    assert f"  {key}: {sample.credit}" in output


@pytest.mark.parametrize("sample", [PDF_SAMPLE, SVG_SAMPLE], ids=lambda sample: sample.path)
def test_a_real_samples_credit_is_its_fixtures_readme_row(sample: RealFile) -> None:
    """The demo says where a file came from as the fixtures' README does: same repository, path
    and licence, on the file's own row."""
    readme = (FIXTURES / sample.path).parent / "README.md"
    [row] = [line for line in readme.read_text().splitlines() if line.startswith(f"| `{Path(sample.path).name}` |")]
    assert sample.repository in row and sample.source_path in row and sample.licence in row


def test_the_gallery_in_out_reads_each_renditions_url_made_relative(demo_out: Path) -> None:
    """The function wrote urls under the embedded S3 (DELIVERY_BASE_URL); out/'s copies point at
    the thumbnails beside them, so index.html still opens once that S3 is gone."""
    for path in (demo_out / "manifests").rglob("*.json"):
        manifest = json.loads(path.read_text(encoding="utf-8"))
        assert manifest["base_url"] is None
        for rendition in manifest["renditions"]:
            assert rendition["url"] == quote(rendition["key"], safe="/")
            assert (demo_out / rendition["key"]).is_file()


def test_offline_manifest_makes_only_urls_under_the_base_relative() -> None:
    base = "http://127.0.0.1:5000/demo-resized"
    manifest = {"source": {"key": "a b.jpg"}, "base_url": base, "renditions": [
        {"key": "256x256/a b.jpg", "url": f"{base}/256x256/a%20b.jpg"}, {"key": "256x256/./x.jpg", "url": None}]}  # fmt: skip
    assert offline_manifest(manifest, base) == {"source": {"key": "a b.jpg"}, "base_url": None, "renditions": [
        {"key": "256x256/a b.jpg", "url": "256x256/a%20b.jpg"}, {"key": "256x256/./x.jpg", "url": None}]}  # fmt: skip
