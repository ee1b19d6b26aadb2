"""Backfill: thumbnails for objects that were in the bucket before the function was.

Deployed, the work is S3 Batch Operations' (the engine AWS already runs for this): we write a CSV
manifest of the source objects that lack thumbnails and create a LambdaInvoke job against the
function, which answers each task with Succeeded / TemporaryFailure / PermanentFailure. Locally,
the same Batch Operations invocations go to the handler in-process against the embedded S3, in
bounded parallel batches. Either way the plan is recomputed from the buckets' listings each run,
so an interrupted backfill resumes where it stopped and never redoes a thumbnail.
"""

from __future__ import annotations

import csv
import io
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TextIO
from urllib.parse import quote_plus

from create_thumbnail.config import Settings
from create_thumbnail.naming import format_candidates, skip_reason

MANIFEST_FORMAT = "S3BatchOperations_CSV_20180820"
# Manifests and completion reports go beside the thumbnails, under a prefix no thumbnail key can
# have (those start with WIDTHxHEIGHT/): the Batch Operations role may read and write only there.
MANIFEST_PREFIX = "_backfill/manifests/"
REPORT_PREFIX = "_backfill/reports"


def plan(
    source_keys: Iterable[str],
    thumbnail_keys: set[str],
    settings: Settings,
    rule_of: Callable[[str], str | None] | None = None,
) -> list[str]:
    """Source keys we would thumbnail that lack a thumbnail for at least one box and format of
    their rule; with rule_of (a thumbnail key -> the rule digest it records), also those whose
    thumbnails were made under another rule. All thumbnails of a source are written together,
    so one of them tells: one HeadObject per source that has them all."""
    chosen = []
    for key in source_keys:
        if skip_reason(key, settings.source_formats) is not None:
            continue
        rule = settings.rule_for(key)
        wanted = [keys for box in rule.sizes for keys in format_candidates(key, box, rule, settings.source_formats)]
        if any(thumbnail_keys.isdisjoint(keys) for keys in wanted):
            chosen.append(key)
        elif rule_of is not None and rule_of(min(wanted[0] & thumbnail_keys)) != rule.digest:
            chosen.append(key)
    return chosen


def list_keys(s3: Any, bucket: str, prefix: str = "") -> Iterator[str]:
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            yield item["Key"]


def manifest_csv(bucket: str, keys: Iterable[str]) -> bytes:
    """Batch Operations' CSV manifest: bucket,key with keys URL-encoded, as the format requires."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for key in keys:
        writer.writerow([bucket, quote_plus(key, safe="/")])
    return buffer.getvalue().encode("utf-8")


def create_job_request(
    *,
    account_id: str,
    function_arn: str,
    role_arn: str,
    manifest_arn: str,
    manifest_etag: str,
    report_bucket_arn: str,
    description: str = "CreateThumbnail backfill",
) -> dict[str, Any]:
    """The s3control CreateJob request: invoke the function per manifest line, report failures."""
    return {
        "AccountId": account_id,
        "ConfirmationRequired": False,
        "Operation": {"LambdaInvoke": {"FunctionArn": function_arn, "InvocationSchemaVersion": "2.0"}},
        "Manifest": {
            "Spec": {"Format": MANIFEST_FORMAT, "Fields": ["Bucket", "Key"]},
            "Location": {"ObjectArn": manifest_arn, "ETag": manifest_etag},
        },
        "Report": {
            "Bucket": report_bucket_arn,
            "Format": "Report_CSV_20180820",
            "Enabled": True,
            "Prefix": REPORT_PREFIX,
            "ReportScope": "FailedTasksOnly",
        },
        "Priority": 10,
        "RoleArn": role_arn,
        "ClientRequestToken": str(uuid.uuid4()),
        "Description": description,
    }


def batch_event(bucket: str, keys: Sequence[str], job_id: str) -> dict[str, Any]:
    """A Batch Operations 2.0 invocation, as the service would send it for these keys."""
    return {
        "invocationSchemaVersion": "2.0",
        "invocationId": uuid.uuid4().hex,
        "job": {"id": job_id, "userArguments": {}},
        "tasks": [
            {"taskId": f"{job_id}-{index}", "s3Key": quote_plus(key, safe="/"), "s3VersionId": None, "s3Bucket": bucket}
            for index, key in enumerate(keys)
        ],
    }


@dataclass
class Progress:
    total: int
    stream: TextIO = field(default_factory=lambda: sys.stderr)
    done: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)

    def add(self, results: Sequence[dict[str, Any]]) -> None:
        self.done += len(results)
        for result in results:
            self.counts[result["resultCode"]] = self.counts.get(result["resultCode"], 0) + 1
        rate = self.done / max(time.monotonic() - self.started, 1e-9)
        width = 30
        filled = width * self.done // max(self.total, 1)
        line = (
            f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} "
            f"{rate:.0f}/s " + " ".join(f"{code}={n}" for code, n in sorted(self.counts.items()))
        )
        end = "" if self.stream.isatty() and self.done < self.total else "\n"
        if self.stream.isatty() or self.done == self.total or self.done % 100 < len(results):
            print(line if self.stream.isatty() else line.lstrip("\r"), end=end, file=self.stream, flush=True)


def run_local(
    invoke: Callable[[dict[str, Any]], dict[str, Any]],
    bucket: str,
    keys: Sequence[str],
    *,
    batch_size: int = 25,
    workers: int = 4,
    progress: Progress | None = None,
    max_batches: int | None = None,
) -> dict[str, int]:
    """Sends the keys to invoke() as Batch Operations invocations, `workers` at a time.
    max_batches stops early, as an interrupted run would; the next run's plan resumes there."""
    job_id = f"local-{uuid.uuid4().hex[:8]}"
    batches = [keys[i : i + batch_size] for i in range(0, len(keys), batch_size)][:max_batches]
    progress = progress or Progress(len(keys))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for reply in pool.map(lambda batch: invoke(batch_event(bucket, batch, job_id)), batches):
            progress.add(reply["results"])
    return progress.counts


# ---- the two ways to run it ------------------------------------------------------------------------


@dataclass(frozen=True)
class Targets:
    """Where a backfill reads and writes, and with which thumbnail settings."""

    source_bucket: str
    resized_bucket: str
    settings: Settings


def settings_for(resized_bucket: str, function_env: Mapping[str, str]) -> Settings:
    """The function's own settings (THUMBNAIL_SIZES, THUMBNAIL_FORMAT, THUMBNAIL_RULES, ...), so
    the plan looks for exactly the keys, and the rule digests, the function writes."""
    return Settings.from_env({**function_env, "DESTINATION_BUCKET": resized_bucket})


def missing_keys(s3: Any, targets: Targets, stale: bool = False) -> list[str]:
    """What lacks thumbnails; stale: also what has them under another rule than today's."""
    existing = set(list_keys(s3, targets.resized_bucket))

    def rule_of(key: str) -> str | None:
        return s3.head_object(Bucket=targets.resized_bucket, Key=key)["Metadata"].get("thumbnail-rule")

    # A bucket shared with other data (SOURCE_KEY_PREFIX): only what the function would make.
    sources = list_keys(s3, targets.source_bucket, targets.settings.source_key_prefix)
    return plan(sources, existing, targets.settings, rule_of if stale else None)


def start_job(
    clients: Mapping[str, Any], targets: Targets, keys: Sequence[str], function_arn: str, role_arn: str
) -> str:
    """Uploads the manifest beside the thumbnails (under _backfill/, which no thumbnail key can
    start with) and creates the Batch Operations job. Returns the job id."""
    s3, s3control, sts = clients["s3"], clients["s3control"], clients["sts"]
    manifest_key = f"{MANIFEST_PREFIX}{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.csv"
    put = s3.put_object(
        Bucket=targets.resized_bucket, Key=manifest_key, Body=manifest_csv(targets.source_bucket, keys),
        ContentType="text/csv",
    )  # fmt: skip
    bucket_arn = f"arn:aws:s3:::{targets.resized_bucket}"
    request = create_job_request(
        account_id=sts.get_caller_identity()["Account"],
        function_arn=function_arn,
        role_arn=role_arn,
        manifest_arn=f"{bucket_arn}/{manifest_key}",
        manifest_etag=put["ETag"].strip('"'),
        report_bucket_arn=bucket_arn,
    )
    return s3control.create_job(**request)["JobId"]


def stack_outputs(cloudformation: Any, stack: str) -> dict[str, str]:
    [description] = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    return {output["OutputKey"]: output["OutputValue"] for output in description.get("Outputs", [])}
