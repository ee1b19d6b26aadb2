"""The README's first command: the whole pipeline on an embedded S3, no Docker, no AWS account.

Uploads the sample images to a source bucket on moto's HTTP server, sends each upload to the
real handler as the S3 event S3 would send (real ETag and size), downloads the thumbnails into
out/ and prints what happened to each. Exits 1 if any outcome differs from what the sample
expects, a thumbnail is missing, or a source object changed.
"""

from __future__ import annotations

import shutil
import sys
import time
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import Any, TextIO

import boto3
from PIL import Image

from local_run.context import LocalContext
from local_run.grid import contact_sheet
from local_run.embedded_s3 import LOCAL_AWS_ENV, embedded_s3, environment
from local_run.s3_events import put_event, put_record
from local_run.samples import Sample, demo_samples

SOURCE_BUCKET = "demo-source"
RESIZED_BUCKET = "demo-resized"


@dataclass
class Row:
    sample: Sample
    reply: dict[str, Any]
    ms: float
    problems: list[str] = field(default_factory=list)


def run_demo(out_dir: Path, sizes: str | None = None, stream: TextIO = sys.stdout) -> int:
    env = {
        **LOCAL_AWS_ENV,
        "DESTINATION_BUCKET": RESIZED_BUCKET,
        "POWERTOOLS_SERVICE_NAME": "create-thumbnail",
    }
    if sizes:
        env["THUMBNAIL_SIZES"] = sizes
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    print("starting the embedded S3 (moto server on 127.0.0.1) ...", file=stream, flush=True)
    with embedded_s3() as endpoint, environment({**env, "AWS_ENDPOINT_URL": endpoint}):
        s3 = boto3.client("s3")
        for bucket in (SOURCE_BUCKET, RESIZED_BUCKET):
            s3.create_bucket(Bucket=bucket)
        from create_thumbnail import app  # after the environment is set, as Lambda would

        log_path = out_dir / "function-log.jsonl"
        with log_path.open("w", encoding="utf-8") as log:
            app.logger.registered_handler.setStream(log)
            rows = [_invoke(app, s3, sample, out_dir) for sample in demo_samples()]
    print(f"endpoint {endpoint}, buckets {SOURCE_BUCKET} -> {RESIZED_BUCKET}", file=stream)
    _print_table(rows, stream)
    sheet = contact_sheet(out_dir / "contact-sheet.png")
    print(f"\nthumbnails in {out_dir}/, the function's JSON log in {log_path}", file=stream)
    print(f"every mode x orientation the tests cover, as thumbnails: {sheet}", file=stream)
    problems = [f"{row.sample.key}: {problem}" for row in rows for problem in row.problems]
    for problem in problems:
        print(f"PROBLEM {problem}", file=stream)
    return 1 if problems else 0


def _invoke(app: Any, s3: Any, sample: Sample, out_dir: Path) -> Row:
    s3.put_object(Bucket=SOURCE_BUCKET, Key=sample.key, Body=sample.data, ContentType=sample.content_type)
    head = s3.head_object(Bucket=SOURCE_BUCKET, Key=sample.key)
    event = put_event(put_record(SOURCE_BUCKET, sample.key, head["ContentLength"], head["ETag"]))
    started = time.perf_counter()
    try:
        reply = app.lambda_handler(event, LocalContext())
    except Exception as error:  # noqa: BLE001 - reported as a problem, the demo goes on
        reply = {"records": [{"status": "error", "reason": f"{type(error).__name__}: {error}"}]}
    row = Row(sample, reply["records"][0], (time.perf_counter() - started) * 1000)
    _check(row, s3, head["ETag"], out_dir)
    return row


def _check(row: Row, s3: Any, etag: str, out_dir: Path) -> None:
    status = row.reply.get("status")
    if status != row.sample.expect:
        row.problems.append(f"expected {row.sample.expect}, got {status}: {row.reply.get('reason')}")
    for thumbnail in row.reply.get("thumbnails", []):
        try:
            body = s3.get_object(Bucket=RESIZED_BUCKET, Key=thumbnail["key"])
        except s3.exceptions.NoSuchKey:
            row.problems.append(f"thumbnail {thumbnail['key']} is missing")
            continue
        data = body["Body"].read()
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


def _source_size(sample: Sample) -> str:
    try:
        with Image.open(BytesIO(sample.data)) as image:
            return f"{image.width}x{image.height}"
    except Exception:  # noqa: BLE001 - a non-image has no size
        return "-"


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
                _source_size(row.sample) if first else "",
                f"{len(row.sample.data):,}" if first else "",
                f"{thumbnail['width']}x{thumbnail['height']}" if thumbnail else "-",
                f"{thumbnail['bytes']:,}" if thumbnail else "-",
                f"{row.ms:.0f}" if first else "",
                (row.reply.get("reason") or row.sample.what) if first else "",
            ))
    widths = [max(len(str(line[i])) for line in [header, *lines]) for i in range(len(header))]
    numeric = {3, 5, 6}
    for line in [header, tuple("-" * w for w in widths), *lines]:
        cells = [
            str(cell).rjust(widths[i]) if i in numeric else str(cell).ljust(widths[i])
            for i, cell in enumerate(line)
        ]
        print("  ".join(cells).rstrip(), file=stream)
