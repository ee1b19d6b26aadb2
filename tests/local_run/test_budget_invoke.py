"""The memory and scan budgets at the function's real limit: the built artifact under the Lambda
emulator, fed the small files that used to kill or stall a 1024 MB function, at MemorySize 1024
(the template's, through `thumbnail-local invoke` as a person runs it) and at 512 and 2048 (the
same artifact and emulator, with the MemorySize Lambda would pass as
AWS_LAMBDA_FUNCTION_MEMORY_SIZE). Each refusal is a permanent failure in the reply, the
invocation itself succeeds (nothing for Lambda to retry), and the runtime's peak memory, the
REPORT line's Max Memory Used, stays far under MemorySize."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from local_run.cli import main
from local_run.inputs.hostile import scan_bomb_jpeg, tall_palette_png, wide_rgb16_png
from local_run.inputs.s3_events import put_event, put_record
from local_run.inputs.samples import encode
from local_run.runtime.function import LocalFunction
from local_run.runtime.function_env import function_environment
from local_run.runtime.rie import Emulator
from local_run.shared import embedded_s3, local_s3_client
from PIL import Image

from tests.local_run.test_invoke import invoke_args

pytestmark = pytest.mark.slow

SOURCE = "budget-source"
HOSTILE = {
    "tall-palette.png": (tall_palette_png, "ImageTooLarge: 1x49999999: a side over 65,535 pixels"),
    "wide-16-bit.png": (wide_rgb16_png, "ImageTooLarge: 49999999x1: a side over 65,535 pixels"),
    "scan-bomb.jpg": (scan_bomb_jpeg, "ImageTooLarge: a JPEG of 20,010 scans, over the limit of 100 scans"),
}
# Pillow's full decode and libwebp's own buffer, ~16 bytes a pixel, ~475 MB at 30 MP: made at
# 1024 and 2048 MB, refused at 512.
LARGE = "rgb-30mp.webp"
# A PNG streams through libvips, shrunk as it is read: 49 MP of 16-bit grey with tRNS (once ~12
# bytes a pixel through Pillow, ~570 MB, and refused at 512 MB) is made at every size.
STREAMED = "grey-16-bit-trns-49mp.png"


def _large() -> bytes:
    return encode(Image.new("RGB", (6000, 5000), (10, 20, 30)), "WEBP", lossless=True, method=0)


def _streamed() -> bytes:
    return encode(Image.new("I;16", (7000, 7000), 1000), "PNG", transparency=0)


def _event(s3, key: str, data: bytes) -> dict:
    put = s3.put_object(Bucket=SOURCE, Key=key, Body=data)
    return put_event(put_record(SOURCE, key, len(data), put["ETag"]))


def _empty(s3, bucket: str) -> None:
    for item in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
        s3.delete_object(Bucket=bucket, Key=item["Key"])


@pytest.fixture(scope="module")
def uploads():
    with embedded_s3() as endpoint:
        s3 = local_s3_client(endpoint)
        s3.create_bucket(Bucket=SOURCE)
        s3.create_bucket(Bucket="local-resized-bucket")
        events = {key: _event(s3, key, make()) for key, (make, _) in HOSTILE.items()}
        events[LARGE] = _event(s3, LARGE, _large())
        events[STREAMED] = _event(s3, STREAMED, _streamed())
        yield endpoint, events


def test_hostile_inputs_through_thumbnail_local_invoke_at_the_templates_memory(
    thumbnail_function: LocalFunction, uploads, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    endpoint, events = uploads
    for key, (_, reason) in HOSTILE.items():
        event_file = tmp_path / f"{key}.json"
        event_file.write_text(json.dumps(events[key]))
        code = main(invoke_args(thumbnail_function, "-e", str(event_file), "--endpoint-url", endpoint, "--json"))
        document = json.loads(capsys.readouterr().out)
        [record] = document["response"]["records"]
        print(f"thumbnail-local invoke {key}: {document['report']} {record}", file=sys.stderr)
        assert (code, document["error"], record["status"], record["reason"]) == (0, None, "failed", reason)
        assert document["report"]["memory_size_mb"] == 1024
        assert document["report"]["max_memory_used_mb"] < 200, document["report"]


@pytest.mark.parametrize(("memory_mb", "large_fits"), [(512, False), (1024, True), (2048, True)])
def test_the_budget_moves_with_the_functions_memory(thumbnail_function: LocalFunction, uploads, memory_mb, large_fits):
    endpoint, events = uploads
    _empty(local_s3_client(endpoint), "local-resized-bucket")  # else the large one is a duplicate
    spec = replace(thumbnail_function.spec, memory_mb=memory_mb)
    variables = function_environment(spec, {spec.logical_id: {"SOURCE_FORMATS": "jpeg,png,webp"}}, endpoint).variables
    assert variables["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == str(memory_mb)
    with Emulator(spec, thumbnail_function.built.function_dir, variables, thumbnail_function.build_root) as emulator:
        for key, (_, reason) in HOSTILE.items():
            done = emulator.invoke(events[key])
            print(f"{memory_mb} MB {key}: {done.report.line()}")
            assert done.error is None and done.response["records"][0]["reason"] == reason
            assert done.report.max_memory_used_mb < 200
        streamed = emulator.invoke(events[STREAMED])
        print(f"{memory_mb} MB {STREAMED}: {streamed.report.line()}")
        assert streamed.response["records"][0]["status"] == "created"
        assert streamed.report.max_memory_used_mb < 200
        done = emulator.invoke(events[LARGE])
    print(f"{memory_mb} MB {LARGE}: {done.report.line()} -> {done.response['records'][0]['status']}")
    [record] = done.response["records"]
    assert done.error is None
    if large_fits:
        assert record["status"] == "created"
    else:
        assert record["status"] == "failed"
        assert record["reason"].startswith("ImageTooLarge: decoding would take about ")
        assert record["reason"].endswith("over the budget of 412 MB (the function's memory less 100 MB for the runtime)")
    assert done.report.max_memory_used_mb < memory_mb
