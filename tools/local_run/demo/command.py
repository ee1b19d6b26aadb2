"""The README's first command: the whole pipeline on an embedded S3, no Docker, no AWS account.

Uploads the sample images to a source bucket on moto's HTTP server, sends each upload to the
real handler as the S3 event S3 would send (real ETag and size), downloads the thumbnails into
out/ and prints what happened to each, and for the video how much of it was read. Exits 1 if
any outcome differs from what the sample expects, a thumbnail is missing, or a source object
changed.

`--runtime rie` sends the same events to the built artifact under the Lambda Runtime Interface
Emulator instead (invoke.py), so the table then shows what Lambda would report: Duration per
invocation, and the Init Duration and peak memory of the one execution environment. `--json`
prints the rows as one JSON document and nothing else.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import Any, Literal, TextIO

from PIL import Image

from local_run.demo.browser import BrowserError, dump_dom, screenshot, serve
from local_run.demo.gallery import read_manifests, write_gallery
from local_run.demo.sheet import contact_sheet
from local_run.inputs.s3_events import put_event, put_record
from local_run.inputs.samples import Sample, demo_samples
from local_run.runtime.function import LocalFunction, add_build_options, prepare_function
from local_run.runtime.function_env import function_environment
from local_run.runtime.report import Report
from local_run.runtime.rie import Emulator
from local_run.shared import (
    LOCAL_AWS_ENV,
    LocalContext,
    Progress,
    embedded_s3,
    environment,
    local_s3_client,
)

SOURCE_BUCKET = "demo-source"
RESIZED_BUCKET = "demo-resized"
# What the demo shows beyond the defaults: two fit boxes and a cover box (attention gravity, or the
# object's focal point) in AVIF, WebP and the source's format, for out/index.html's <picture>s;
# HEIC, animated GIF, PDF, SVG, video, camera RAW and JPEG XL sources. --sizes replaces the boxes.
DEMO_SETTINGS = {
    "THUMBNAIL_SIZES": "256x256,1024x1024,150x150:cover",
    "THUMBNAIL_FORMAT": "avif,webp,source",
    "SOURCE_FORMATS": "jpeg,png,gif,heif,pdf,svg,video,raw,jxl",
    "THUMBNAIL_ANIMATED": "true",
}


Runtime = Literal["in-process", "rie"]


@dataclass
class Row:
    sample: Sample
    reply: dict[str, Any]
    ms: float
    problems: list[str] = field(default_factory=list)
    report: Report | None = None  # under the emulator: Lambda's REPORT for this invocation
    # The source's size as its manifest gives it (upright): a video's frame, a RAW's preview.
    manifest_size: tuple[int, int] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.sample.key, "expect": self.sample.expect, "status": self.reply.get("status"),
            "reason": self.reply.get("reason"), "thumbnails": self.reply.get("thumbnails", []),
            "ms": round(self.ms, 2), "problems": self.problems, "credit": self.sample.credit,
            "made_here": self.sample.made_here,
            "report": self.report.as_dict() if self.report else None,
            "source_bytes": len(self.sample.data), "source_bytes_read": self.reply.get("source_bytes_read"),
            "ranged_requests": self.reply.get("ranged_requests"),
        }  # fmt: skip

    def read_note(self) -> str | None:
        """What a video cost to read, as the reply counts it: the GET that opened it brought its
        first MiB, then a ranged GET per block the demuxer moved to. None for what is read whole."""
        read, ranged = self.reply.get("source_bytes_read"), self.reply.get("ranged_requests")
        if read is None:
            return None
        return (f"read {_megabytes(read)} of {_megabytes(len(self.sample.data))}: "
                f"the opening GET and {ranged} ranged GET{'' if ranged == 1 else 's'}")  # fmt: skip


# One event in -> (the handler's reply or an error shaped like one, ms, REPORT if any).
Invoke = Callable[[dict[str, Any]], tuple[dict[str, Any], float, Report | None]]


def run_demo(
    out_dir: Path,
    sizes: str | None = None,
    stream: TextIO = sys.stdout,
    runtime: Runtime = "in-process",
    as_json: bool = False,
    template: Path = Path("template.yaml"),
    build_root: Path | None = None,
) -> int:
    progress = Progress(quiet=as_json, stream=stream)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    local = prepare_function(template, None, build_root, progress) if runtime == "rie" else None
    progress.say("starting the embedded S3 (moto server on 127.0.0.1) ...")
    log_path = out_dir / "function-log.jsonl"
    with embedded_s3() as endpoint, log_path.open("w", encoding="utf-8") as log:
        s3 = local_s3_client(endpoint)
        for bucket in (SOURCE_BUCKET, RESIZED_BUCKET):
            _empty_bucket(s3, bucket)
        _allow_unsigned_reads(s3, RESIZED_BUCKET)
        base_url = delivery_base_url(endpoint)
        invoker = (_under_emulator(local, endpoint, sizes, log) if local
                   else _in_process(endpoint, sizes, log))  # fmt: skip
        with invoker as (invoke, init_ms):
            rows = [_invoke(invoke, s3, sample, out_dir, base_url) for sample in demo_samples()]
    if local:
        init_ms = next((r.report.init_duration_ms for r in rows if r.report and r.report.init_duration_ms), None)
    sheet = contact_sheet(out_dir / "contact-sheet.png")
    credits = {row.sample.key: row.sample.credit for row in rows if row.sample.credit}
    made_here = {row.sample.key: row.sample.made_here for row in rows if row.sample.made_here}
    gallery, screenshot, unrendered = _gallery(out_dir, {**credits, **made_here})
    problems = [f"{row.sample.key}: {problem}" for row in rows for problem in row.problems]
    if as_json:
        document = {"runtime": runtime, "init_ms": init_ms, "rows": [row.as_dict() for row in rows],
                    "out_dir": str(out_dir), "function_log": str(log_path), "contact_sheet": str(sheet),
                    "gallery": str(gallery), "gallery_screenshot": str(screenshot) if screenshot else None,
                    "gallery_not_rendered": unrendered,
                    "problems": problems}  # fmt: skip
        print(json.dumps(document, indent=2), file=stream)
        return 1 if problems else 0
    print(f"endpoint {endpoint}, buckets {SOURCE_BUCKET} -> {RESIZED_BUCKET}", file=stream)
    _print_table(rows, stream)
    _print_credits(credits, stream)
    _print_made_here(made_here, stream)
    _print_ranged(rows, stream)
    if local:
        _print_environment(rows, init_ms, stream)
    print(f"\nthumbnails in {out_dir}/, the function's JSON log in {log_path}", file=stream)
    print(f"every mode x orientation the tests cover, as thumbnails: {sheet}", file=stream)
    print(f"the gallery, built from the manifests in {out_dir}/manifests/: {gallery}"
          + (f", as Chromium shows it: {screenshot}" if screenshot else ""), file=stream)  # fmt: skip
    if unrendered:
        print(f"not done: the gallery in a browser (its screenshot, {out_dir}/gallery.png): {unrendered}",
              file=stream)  # fmt: skip
    for problem in problems:
        print(f"PROBLEM {problem}", file=stream)
    return 1 if problems else 0


def add_demo(commands: Any) -> None:
    demo = commands.add_parser(
        "demo", help="run the handler end to end on an embedded S3 and print a summary table"
    )
    demo.add_argument(
        "--out", type=Path, default=Path("out"), help="where thumbnails go (default: out/)"
    )
    demo.add_argument(
        "--sizes",
        help="THUMBNAIL_SIZES for the run, e.g. 256x256,1024x1024 (default: the function's)",
    )
    demo.add_argument(
        "--runtime",
        choices=("in-process", "rie"),
        default="in-process",
        help="in-process (default): import the handler here; rie: the built artifact under the "
        "Lambda Runtime Interface Emulator",
    )
    demo.add_argument("--json", action="store_true", help="print one JSON document, nothing else")
    add_build_options(demo)
    demo.set_defaults(
        run=lambda args: run_demo(
            args.out,
            args.sizes,
            runtime=args.runtime,
            as_json=args.json,
            template=args.template,
            build_root=args.build_dir,
        )
    )


@contextmanager
def _in_process(endpoint: str, sizes: str | None, log: TextIO) -> Iterator[tuple[Invoke, float | None]]:
    """The handler imported into this process, configured as template.yaml configures it. The
    init figure is the import's time, when this process had not imported it yet."""
    env = {**LOCAL_AWS_ENV, **_settings(sizes), "DESTINATION_BUCKET": RESIZED_BUCKET,
           "DELIVERY_BASE_URL": delivery_base_url(endpoint),
           "POWERTOOLS_SERVICE_NAME": "create-thumbnail", "AWS_ENDPOINT_URL": endpoint}  # fmt: skip
    with environment(env):
        cold = "create_thumbnail.app" not in sys.modules
        started = time.perf_counter()
        from create_thumbnail import app  # after the environment is set, as Lambda would

        init_ms = (time.perf_counter() - started) * 1000 if cold else None
        previous = app.logger.registered_handler.setStream(log)

        def invoke(event: dict[str, Any]) -> tuple[dict[str, Any], float, Report | None]:
            started = time.perf_counter()
            try:
                # Powertools' metrics go to stdout, as on Lambda: into the log, not the table.
                with redirect_stdout(log):
                    reply = app.lambda_handler(event, LocalContext())
            except Exception as error:  # noqa: BLE001 - reported as a problem, the demo goes on
                reply = {"records": [{"status": "error", "reason": f"{type(error).__name__}: {error}"}]}
            return reply, (time.perf_counter() - started) * 1000, None

        try:
            yield invoke, init_ms
        finally:  # the log file closes after this; the logger must not keep writing to it
            app.logger.registered_handler.setStream(previous)


@contextmanager
def _under_emulator(
    local: LocalFunction, endpoint: str, sizes: str | None, log: TextIO
) -> Iterator[tuple[Invoke, float | None]]:
    """The built artifact under the emulator: one execution environment for all the samples,
    its variables overridden the way `sam local invoke --env-vars` would. Its init figure is
    the first REPORT's Init Duration, so it is known only from the rows."""
    overrides = {"DESTINATION_BUCKET": RESIZED_BUCKET, **_settings(sizes)}
    variables = function_environment(local.spec, {local.spec.logical_id: overrides}, endpoint).variables
    # Like the endpoint, where this machine's S3 serves the bucket: set whether or not the
    # template declares the variable (an override of an undeclared one is ignored, as by sam).
    variables = {**variables, "DELIVERY_BASE_URL": delivery_base_url(endpoint)}

    def write(line: str) -> None:
        print(line, file=log, flush=True)

    with Emulator(local.spec, local.built.function_dir, variables, local.build_root, write) as emulator:

        def invoke(event: dict[str, Any]) -> tuple[dict[str, Any], float, Report | None]:
            done = emulator.invoke(event)
            write(done.report.line())
            if done.error is not None:
                reason = f"{done.error['errorType']}: {done.error['errorMessage']}"
                return {"records": [{"status": "error", "reason": reason}]}, done.report.duration_ms, done.report
            return done.response, done.report.duration_ms, done.report

        yield invoke, None


def _empty_bucket(s3: Any, bucket: str) -> None:
    """moto's servers share one store per process: a second demo in the same process (the
    tests run two) would find the first one's thumbnails and report them as duplicates."""
    s3.create_bucket(Bucket=bucket)
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            s3.delete_object(Bucket=bucket, Key=item["Key"])


def _settings(sizes: str | None) -> dict[str, str]:
    return {**DEMO_SETTINGS, **({"THUMBNAIL_SIZES": sizes} if sizes else {})}


def delivery_base_url(endpoint: str) -> str:
    """The resized bucket as the embedded S3 serves it, path-style: what a CloudFront
    distribution's domain is when deployed (http, which the function takes for loopback only)."""
    return f"{endpoint}/{RESIZED_BUCKET}"


def _allow_unsigned_reads(s3: Any, bucket: str) -> None:
    """The page's images are fetched by URL, unsigned, as a browser fetches them; deployed, the
    bucket stays private and only the distribution may read it."""
    statement = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [statement]}))


def _invoke(invoke: Invoke, s3: Any, sample: Sample, out_dir: Path, base_url: str) -> Row:
    s3.put_object(Bucket=SOURCE_BUCKET, Key=sample.key, Body=sample.data, ContentType=sample.content_type,
                  Metadata=dict(sample.metadata))  # fmt: skip
    head = s3.head_object(Bucket=SOURCE_BUCKET, Key=sample.key)
    event = put_event(put_record(SOURCE_BUCKET, sample.key, head["ContentLength"], head["ETag"]))
    reply, ms, report = invoke(event)
    row = Row(sample, reply["records"][0], ms, report=report)
    _check(row, s3, head["ETag"], out_dir, base_url)
    return row


def _gallery(out_dir: Path, credits: Mapping[str, str] | None = None) -> tuple[Path, Path | None, str | None]:
    """index.html from the manifests, a real file's credit (or a made one's origin) under its
    thumbnails; its screenshot at 1600 px, the page's full height, when Chromium is here, else
    why not. ./scripts/demo installs no Chromium (a system package, as root): the thumbnails
    need none, and ./scripts/bootstrap.sh test installs it for the tests."""
    gallery = write_gallery(out_dir, read_manifests(out_dir / "manifests"), credits)
    try:
        with serve(out_dir) as url:
            height = int(re.search(r'data-height="(\d+)"', dump_dom(url + "index.html?measure", (1600, 900)))[1])
            shot = screenshot(url + "index.html", out_dir / "gallery.png", (1600, min(height + 20, 16000)))
    except (BrowserError, TypeError) as error:
        return gallery, None, str(error)
    return gallery, shot, None


def _check(row: Row, s3: Any, etag: str, out_dir: Path, base_url: str) -> None:
    """Each thumbnail is fetched by the url its manifest gives it, as the page will, and kept in
    out/ with a copy of the manifest whose urls are relative (offline_manifest)."""
    status = row.reply.get("status")
    if status != row.sample.expect:
        row.problems.append(f"expected {row.sample.expect}, got {status}: {row.reply.get('reason')}")
    manifest = None
    if row.reply.get("manifest"):
        manifest = json.loads(s3.get_object(Bucket=RESIZED_BUCKET, Key=row.reply["manifest"])["Body"].read())
        row.manifest_size = (manifest["source"]["width"], manifest["source"]["height"])
        target = out_dir / row.reply["manifest"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(offline_manifest(manifest, base_url), ensure_ascii=False), encoding="utf-8")
    elif row.sample.expect == "created":
        row.problems.append("no manifest written")
    urls = {r["key"]: r.get("url") for r in (manifest or {}).get("renditions", [])}
    for thumbnail in row.reply.get("thumbnails", []):
        if not urls.get(thumbnail["key"]):
            row.problems.append(f"the manifest gives {thumbnail['key']} no url")
            continue
        try:
            with urllib.request.urlopen(urls[thumbnail["key"]]) as response:  # noqa: S310 - the embedded S3's
                data = response.read()
        except OSError as error:
            row.problems.append(f"thumbnail {thumbnail['key']} did not load from its url: {error}")
            continue
        with Image.open(BytesIO(data)) as image:
            if image.size != (thumbnail["width"], thumbnail["height"]):
                row.problems.append(f"{thumbnail['key']} is {image.size}, reply said otherwise")
        target = out_dir / thumbnail["key"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    if row.sample.expect == "created" and not row.reply.get("thumbnails"):
        row.problems.append("no thumbnails written")
    if s3.head_object(Bucket=SOURCE_BUCKET, Key=row.sample.key)["ETag"] != etag:
        row.problems.append("the source object changed")


def offline_manifest(manifest: dict[str, Any], base_url: str) -> dict[str, Any]:
    """The manifest for out/, its urls made relative to out/ (the percent-encoded key, which
    starts with a box like 256x256/ and so never reads as a scheme). The embedded S3 lives only
    while the demo runs, and out/index.html must still open afterwards, offline and from any
    server (tests serve out/ on a port of their own): relative urls find the copies beside it."""
    prefix = base_url + "/"
    renditions = [{**r, "url": r["url"].removeprefix(prefix)} if r.get("url") else r for r in manifest["renditions"]]
    return {**manifest, "renditions": renditions, "base_url": None}  # null: relative urls


def _source_size(row: Row) -> str:
    """The pixels as stored, where Pillow reads the file; else the size the function gave it (a
    PDF's page, a video's frame, a RAW's preview); else none."""
    try:
        with Image.open(BytesIO(row.sample.data)) as image:
            return f"{image.width}x{image.height}"
    except Exception:  # noqa: BLE001 - not an image Pillow reads
        return "{}x{}".format(*row.manifest_size) if row.manifest_size else "-"


def _print_table(rows: list[Row], stream: TextIO) -> None:
    header = ("key", "result", "source", "bytes", "thumbnail", "bytes", "ms", "reason / note")
    lines = []
    for row in rows:
        thumbnails = row.reply.get("thumbnails") or [None]
        for index, thumbnail in enumerate(thumbnails):
            first = index == 0
            lines.append((
                row.sample.key if first else "",
                str(row.reply.get("status")) if first else "",
                _source_size(row) if first else "",
                f"{len(row.sample.data):,}" if first else "",
                f"{thumbnail['width']}x{thumbnail['height']}" if thumbnail else "-",
                f"{thumbnail['bytes']:,}" if thumbnail else "-",
                f"{row.ms:.0f}" if first else "",
                _note(row, index),
            ))
    widths = [max(len(str(line[i])) for line in [header, *lines]) for i in range(len(header))]
    numeric = {3, 5, 6}
    for line in [header, tuple("-" * w for w in widths), *lines]:
        cells = [
            str(cell).rjust(widths[i]) if i in numeric else str(cell).ljust(widths[i])
            for i, cell in enumerate(line)
        ]
        print("  ".join(cells).rstrip(), file=stream)


def _note(row: Row, index: int) -> str:
    """The first line's: why, or what the sample is; the second's: what a video cost to read."""
    if index == 0:
        return row.reply.get("reason") or row.sample.what
    return (row.read_note() or "") if index == 1 else ""


def _print_credits(credits: dict[str, str], stream: TextIO) -> None:
    """The samples someone else made: where each came from, and its licence."""
    if credits:
        print("\nnot made here, copied unchanged from the test fixtures:", file=stream)
        for key, credit in credits.items():
            print(f"  {key}: {credit}", file=stream)


def _print_made_here(made_here: dict[str, str], stream: TextIO) -> None:
    """The samples in a device's format that no device made: said so, lest they pass for real."""
    if made_here:
        print("\nin a camera's format, but not from a camera:", file=stream)
        for key, what in made_here.items():
            print(f"  {key}: {what}", file=stream)


def _print_ranged(rows: list[Row], stream: TextIO) -> None:
    """The demo's clip is small; what ranged reads save shows on a large one, which the embedded
    S3 would have to store whole."""
    if any(row.read_note() for row in rows):
        print("\na video is read in ranges, never whole: benchmarks/video_bench.py measures the same clip "
              "grown to 64 GB (tests/large_video.py)", file=stream)  # fmt: skip


def _megabytes(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


def _print_environment(rows: list[Row], init_ms: float | None, stream: TextIO) -> None:
    """Under the emulator the ms column is Lambda's Duration; what the table cannot show."""
    peak = max((row.report.max_memory_used_mb or 0 for row in rows if row.report), default=0)
    init = f"{init_ms:.0f} ms" if init_ms is not None else "?"
    print(f"\nLambda Runtime Interface Emulator, one execution environment: Init Duration {init} "
          f"(before the first row), Max Memory Used {peak} MB; ms = Lambda's Duration", file=stream)
