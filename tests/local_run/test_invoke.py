"""thumbnail-local invoke, end to end: the built artifact under the Runtime Interface Emulator,
against moto's S3 over HTTP, driven through the command line as a person would run it."""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
import time
import uuid
from io import BytesIO
from pathlib import Path

import pytest
from local_run.cli import main
from local_run.inputs.s3_events import generated_put_event
from local_run.runtime.function import LocalFunction
from local_run.runtime.rie import Emulator
from local_run.shared import embedded_s3, local_s3_client
from PIL import Image

from tests.local_run.conftest import REPO_ROOT

pytestmark = pytest.mark.slow

PUT_EVENT = str(REPO_ROOT / "events" / "put.json")
FOREIGN_EVENTS = REPO_ROOT / "tests" / "fixtures" / "foreign-events"
CONSOLE_BUCKET = "create-thumbnail-source-123456789012-us-east-1"
REPORT_LINE = re.compile(
    r"^REPORT RequestId: \S+\tDuration: (?P<duration>[\d.]+) ms"
    r"\tBilled Duration: (?P<billed>\d+) ms"
    r"\tMemory Size: (?P<size>\d+) MB\tMax Memory Used: (?P<used>\d+) MB"
    r"\tInit Duration: (?P<init>[\d.]+) ms$"
)


def invoke_args(function: LocalFunction, *extra: str) -> list[str]:
    return ["invoke", "-t", str(function.template), "--build-dir", str(function.build_root), *extra]


def test_put_event_runs_the_artifact_and_writes_the_thumbnail(
    thumbnail_function: LocalFunction, capsys: pytest.CaptureFixture[str]
) -> None:
    with embedded_s3() as endpoint:
        code = main(invoke_args(thumbnail_function, "-e", PUT_EVENT, "--endpoint-url", endpoint))
        out, err = capsys.readouterr()
        body = (
            local_s3_client(endpoint)
            .get_object(Bucket="local-resized-bucket", Key="256x256/photos/sample.jpg")["Body"]
            .read()
        )
    assert code == 0, err
    reply = json.loads(out)
    assert (reply["created"], reply["records"][0]["status"]) == (1, "created")
    with Image.open(BytesIO(body)) as thumbnail:
        assert thumbnail.format == "JPEG"
        assert max(thumbnail.size) == 256  # the seeded sample is 1600x1200
    # Lambda's REPORT line, with the figures the emulator's own line gets wrong.
    [report] = [m for line in err.splitlines() if (m := REPORT_LINE.match(line))]
    duration, init = float(report["duration"]), float(report["init"])
    assert 0 < duration < 10_000 and 0 < init < 10_000
    assert int(report["billed"]) == math.ceil(duration + init)
    assert report["size"] == "1024"  # template.yaml's MemorySize
    assert 20 <= int(report["used"]) < 1024  # measured, not the emulator's placeholder (= size)
    assert "Starting runtime" not in err  # the emulator's own debug log stays out
    logs = err.splitlines()
    assert any(line.startswith("START RequestId:") for line in logs)
    assert any('"message":"thumbnails written"' in line for line in logs)


def test_json_mode_is_one_document_on_stdout_and_nothing_on_stderr(
    thumbnail_function: LocalFunction, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # moto's servers share one store per process: a bucket of its own keeps this test's seeding
    # independent of the others'.
    bucket = f"src-{uuid.uuid4().hex[:12]}"
    event = tmp_path / "event.json"
    event.write_text(json.dumps(generated_put_event(bucket, "photos/json mode.png", 1024)))
    code = main(invoke_args(thumbnail_function, "-e", str(event), "--json"))
    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    document = json.loads(out)
    assert document["error"] is None
    assert [(s["bucket"], s["key"], s["what"]) for s in document["seeded"]] == [
        (bucket, "photos/json mode.png", "a 1200x800 RGBA PNG")
    ]
    written = [o["key"] for o in document["objects"]["local-resized-bucket"]]
    assert "256x256/photos/json mode.png" in written
    assert document["response"]["records"][0]["thumbnails"][0]["content_type"] == "image/png"
    assert document["report"]["init_duration_ms"] > 0
    assert document["logs"][0].startswith("START RequestId:")
    assert document["logs"][-1].startswith("END RequestId:")


def test_a_failing_function_exits_non_zero_with_the_runtimes_error(
    thumbnail_function: LocalFunction, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    env_vars = tmp_path / "env.json"
    env_vars.write_text(json.dumps({"CreateThumbnailFunction": {"DESTINATION_BUCKET": ""}}))
    code = main(invoke_args(thumbnail_function, "-e", PUT_EVENT, "-n", str(env_vars)))
    out, err = capsys.readouterr()
    assert code == 1
    payload = json.loads(out)  # the runtime's error document, as Lambda returns it
    assert payload["errorType"] == "ConfigError"
    assert "DESTINATION_BUCKET" in payload["errorMessage"]
    assert f"the function failed: ConfigError: {payload['errorMessage']}" in err


def test_the_template_timeout_stops_the_function(
    sleeper_function: LocalFunction, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    event = tmp_path / "sleep.json"
    event.write_text(json.dumps({"sleep_s": 30}))
    started = time.monotonic()
    code = main(invoke_args(sleeper_function, "-e", str(event), "--json"))
    elapsed = time.monotonic() - started
    document = json.loads(capsys.readouterr().out)
    assert code == 1
    assert document["error"] == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": "Task timed out after 1.00 seconds",
    }
    assert document["report"]["timed_out"] is True
    assert 1000 <= document["report"]["duration_ms"] < 1500
    assert elapsed < 10  # stopped at 1 s, not left to sleep 30


def test_after_a_timeout_the_next_invocation_gets_a_fresh_runtime(
    sleeper_function: LocalFunction,
) -> None:
    spec = sleeper_function.spec
    with Emulator(
        spec,
        sleeper_function.built.function_dir,
        {"AWS_LAMBDA_FUNCTION_TIMEOUT": "1"},
        sleeper_function.build_root,
    ) as emulator:
        killed = emulator.invoke({"sleep_s": 30})
        fresh = emulator.invoke({"sleep_s": 0})
        warm = emulator.invoke({"sleep_s": 0})
    assert killed.report.timed_out and killed.error is not None
    assert (fresh.error, fresh.response) == (None, {"slept_s": 0})
    assert fresh.report.init_duration_ms is not None  # a new process was started
    assert warm.report.init_duration_ms is None  # and kept


def _generated_by_sam(tmp_path: Path) -> Path:
    """`sam local generate-event s3 put` with only bucket and key given, as the AWS tutorial
    has a user make a test event: its eTag, size and sequencer are made up."""
    sam = Path(sys.executable).parent / "sam"
    home = tmp_path / "home"
    home.mkdir()
    generated = subprocess.run(
        [str(sam), "local", "generate-event", "s3", "put", "--bucket", CONSOLE_BUCKET,
         "--key", "photos/generated by sam.jpg"],
        capture_output=True, text=True, check=True,
        env={**os.environ, "HOME": str(home), "SAM_CLI_TELEMETRY": "0"},
    ).stdout  # fmt: skip
    path = tmp_path / "sam-put.json"
    path.write_text(generated)
    return path


# Events other people wrote, with only the bucket and the key edited: the Lambda console's S3
# Put template (events/console-put.json), the Go and Rust runtimes' S3 sample events (made-up
# ETag, versionId "version", sequencer "Happy Sequencer"), and sam's generated event.
OTHERS_EVENTS = {
    "console-put.json": (REPO_ROOT / "events" / "console-put.json", "photos/HappyFace.jpg"),
    "go-s3-event.json": (FOREIGN_EVENTS / "go-s3-event.json", "photos/Happy Face.jpg"),
    "rust-example-s3-event.json": (FOREIGN_EVENTS / "rust-example-s3-event.json", "photos/Happy Face.jpg"),
    "sam-generate-event-s3-put": (None, "photos/generated by sam.jpg"),
}


@pytest.mark.parametrize("name", OTHERS_EVENTS)
def test_test_events_written_by_others_make_thumbnails(
    name: str, thumbnail_function: LocalFunction, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path, key = OTHERS_EVENTS[name]
    path = path or _generated_by_sam(tmp_path)
    with embedded_s3() as endpoint:
        code = main(invoke_args(thumbnail_function, "-e", str(path), "--endpoint-url", endpoint, "--json"))
        document = json.loads(capsys.readouterr().out)
        s3 = local_s3_client(endpoint)
        source = s3.head_object(Bucket=CONSOLE_BUCKET, Key=key)
        thumbnail = s3.head_object(Bucket="local-resized-bucket", Key=f"256x256/{key}")
    assert (code, document["error"]) == (0, None)
    [record] = document["response"]["records"]
    assert (record["status"], record["key"]) == ("created", key)
    # The thumbnail records the bytes that were read, not the event's made-up claims.
    assert thumbnail["Metadata"]["source-etag"] == source["ETag"].strip('"')
    assert thumbnail["Metadata"]["source-size"] == str(source["ContentLength"])
    assert "source-sequencer" not in thumbnail["Metadata"]
