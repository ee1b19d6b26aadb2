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
from local_run.inputs.samples import FIXTURES, JXL_SAMPLE, PDF_SAMPLE, SVG_SAMPLE, VIDEO_SAMPLE, RealFile
from local_run.runtime.function import LocalFunction
from PIL import Image, ImageChops, ImageStat

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
    # the built artifact renders a PDF (PDFium) and an SVG (resvg), as the in-process demo does,
    # with the video layer's stand-in a video's poster frame (PyAV), with the JPEG XL layer's a
    # JPEG XL (libjxl), and a RAW's preview
    for key, content_type, suffix, said in (("docs/chapter-with-photo.pdf", "image/jpeg", "jpg", "credit"),
                                            ("graphics/arbelos.svg", "image/png", "png", "credit"),
                                            ("clips/phone-portrait-4k.mp4", "image/jpeg", "jpg", "credit"),
                                            ("photos/bicycles.jxl", "image/jpeg", "jpg", "credit"),
                                            ("photos/portrait-exif6.dng", "image/jpeg", "jpg", "made_here")):  # fmt: skip
        row = next(row for row in rows if row["key"] == key)
        assert row["status"] == "created" and row[said]
        assert {t["key"] for t in row["thumbnails"] if t["content_type"] == content_type} == {
            f"{box}/{key}.{suffix}" for box in ("256x256", "1024x1024", "150x150-cover")}
    clip = next(row for row in rows if row["key"] == "clips/phone-portrait-4k.mp4")
    assert clip["source_bytes"] == len(VIDEO_SAMPLE.read()) and 0 < clip["source_bytes_read"] < clip["source_bytes"]
    assert clip["ranged_requests"] >= 1
    assert all(row["source_bytes_read"] is None for row in rows if row is not clip)  # read whole


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
    assert len(manifests) == 17 and {"phone/IMG_0001.heic.json", "clips/phone-portrait-4k.mp4.json",
                                     "photos/portrait-exif6.dng.json", "photos/bicycles.jxl.json"} <= set(manifests)  # fmt: skip
    for name in ("index.html", "gallery.png", "contact-sheet.png"):
        assert (demo_out / name).is_file()
    page = (demo_out / "index.html").read_text()
    assert page.count("<figure") == 17 and page.count('type="image/avif"') == 17


@pytest.mark.parametrize(("sample", "key", "fallback", "suffix"), [
    (PDF_SAMPLE, "docs/chapter-with-photo.pdf", "jpeg", "jpg"),  # a page is opaque: JPEG
    (SVG_SAMPLE, "graphics/arbelos.svg", "png", "png"),  # a drawing keeps its transparency: PNG
    (VIDEO_SAMPLE, "clips/phone-portrait-4k.mp4", "jpeg", "jpg"),  # a frame is opaque: JPEG
    (JXL_SAMPLE, "photos/bicycles.jxl", "jpeg", "jpg"),  # a JPEG XL photo without alpha: JPEG
])  # fmt: skip
def test_the_gallery_shows_a_real_pdf_svg_video_and_jpeg_xl_with_where_each_came_from(
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


@pytest.mark.parametrize("sample", [PDF_SAMPLE, SVG_SAMPLE, JXL_SAMPLE], ids=lambda sample: sample.path)
def test_a_real_samples_credit_is_its_fixtures_readme_row(sample: RealFile) -> None:
    """The demo says where a file came from as the fixtures' README does: same repository, path
    and licence, on the file's own row."""
    readme = (FIXTURES / sample.path).parent / "README.md"
    [row] = [line for line in readme.read_text().splitlines() if line.startswith(f"| `{Path(sample.path).name}` |")]
    assert sample.repository in row and sample.source_path in row and sample.licence in row


def test_the_videos_credit_is_its_fixtures_readme() -> None:
    """The video README names the repository, the folder and the licence once, above its table,
    and each file's path under that folder on its row: the credit says all of it for the one."""
    text = (FIXTURES / "video" / "README.md").read_text()
    [row] = [line for line in text.splitlines() if line.startswith(f"| `{Path(VIDEO_SAMPLE.path).name}` |")]
    prose = " ".join(text.split())
    folder, _, path = VIDEO_SAMPLE.source_path.partition("/media/")
    assert f"`{path}`" in row and f"`{folder}/media/` of {VIDEO_SAMPLE.repository}" in prose
    assert f"under the {VIDEO_SAMPLE.licence}" in prose


def test_the_video_comes_out_upright_from_a_partial_read(demo_out: Path) -> None:
    """A phone's portrait clip, stored sideways: every thumbnail is portrait but the square cover
    one, and the table says how much of the object was read, on the row's second line."""
    key = "clips/phone-portrait-4k.mp4"
    manifest = json.loads((demo_out / "manifests" / f"{key}.json").read_text(encoding="utf-8"))
    assert (manifest["source"]["width"], manifest["source"]["height"]) == (2160, 3840)
    for rendition in manifest["renditions"]:
        with Image.open(demo_out / rendition["key"]) as image:
            width, height = image.size
        assert (width == height) if rendition["fit"] == "cover" else (height > width), rendition
    lines = (demo_out / "demo-output.txt").read_text().splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith(key))
    assert lines[first].split()[1:3] == ["created", "2160x3840"]  # the frame as shown: Pillow reads no MP4
    read = re.search(r"read (\d+\.\d) MB of 2\.5 MB: the opening GET and (\d+) ranged GETs?$", lines[first + 1])
    assert read and float(read[1]) <= 2.5 and int(read[2]) >= 1, lines[first + 1]
    assert "benchmarks/video_bench.py measures the same clip grown to 64 GB" in "\n".join(lines)


def test_the_dng_made_here_shows_its_preview_upright_and_says_it_was_made_here(demo_out: Path) -> None:
    """Its preview is the portrait JPEG's picture at full size, stored sideways as the sensor is:
    the same thumbnails, upright, and the gallery and the table say where it came from, apart
    from the files other people made."""
    key, photo = "photos/portrait-exif6.dng", "photos/portrait-exif6.jpg"
    manifest = json.loads((demo_out / "manifests" / f"{key}.json").read_text(encoding="utf-8"))
    assert (manifest["source"]["width"], manifest["source"]["height"]) == (1200, 1600)  # the preview, upright
    renditions = {(r["box"], r["format"]): r for r in manifest["renditions"]}
    assert set(renditions) == {(box, fmt) for box in ("150x150", "256x256", "1024x1024") for fmt in ("avif", "webp", "jpeg")}
    with Image.open(demo_out / renditions["256x256", "jpeg"]["key"]) as image, \
         Image.open(demo_out / f"256x256/{photo}") as reference:  # fmt: skip
        assert image.size == reference.size == (192, 256)
        red, green, _ = image.convert("RGB").getpixel((3, 3))
        assert red > 150 and green < 90  # the red block top-left
        assert max(ImageStat.Stat(ImageChops.difference(image.convert("RGB"), reference.convert("RGB"))).mean) < 2
    page = (demo_out / "index.html").read_text()
    figure = re.search(f'<figure data-key="{re.escape(key)}">.*?</figure>', page, re.S)[0]
    said = "a DNG made here, its embedded preview being the demo's photo photos/portrait-exif6.jpg"
    assert f'<p class="credit">{html.escape(said)}</p>' in figure
    output = (demo_out / "demo-output.txt").read_text()
    others, _, ours = output.partition("\nin a camera's format, but not from a camera:\n")
    assert f"  {key}: {said}\n" in ours and key not in others.partition("not made here")[2]


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
