"""thumbnail-local backfill: the command around local_run.backfill.plan.

Deployed (--stack): reads the stack's outputs and the function's settings, writes the manifest
of what is missing and creates the S3 Batch Operations job; prints the job id. Local (--local,
or --endpoint-url for an S3 that outlives the command, such as a running moto_server): the
same Batch Operations invocations go to the handler in this process, with a progress bar.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager, redirect_stdout
from pathlib import Path
from typing import Any, TextIO

import boto3

from local_run.backfill.plan import (
    Progress,
    Targets,
    missing_keys,
    run_local,
    settings_for,
    stack_outputs,
    start_job,
)
from local_run.inputs.samples import encode, photo
from local_run.shared import LOCAL_AWS_ENV, LocalContext, embedded_s3, environment, local_s3_client

Invoke = Callable[[dict[str, Any]], dict[str, Any]]


def add_backfill(commands: Any) -> None:
    backfill = commands.add_parser(
        "backfill", help="thumbnails for objects already in the source bucket (S3 Batch Operations)"
    )
    where = backfill.add_mutually_exclusive_group(required=True)
    where.add_argument("--stack", help="a deployed stack: create the Batch Operations job")
    where.add_argument("--local", action="store_true", help="on the embedded S3, in this process")
    where.add_argument("--endpoint-url", help="on this S3-compatible endpoint, in this process")
    backfill.add_argument("--region", help="the stack's region (default: your profile's)")
    backfill.add_argument("--source-bucket", default="backfill-source", help="local runs only")
    backfill.add_argument("--resized-bucket", default="backfill-resized", help="local runs only")
    backfill.add_argument("--sizes", help="THUMBNAIL_SIZES for local runs (default: the function's)")
    backfill.add_argument("--seed", type=int, default=0, metavar="N",
                          help="first fill the local source bucket with N objects, a third of "
                               "them with thumbnails and one in ten not an image")  # fmt: skip
    backfill.add_argument("--batch-size", type=int, default=25, help="tasks per invocation (local)")
    backfill.add_argument("--workers", type=int, default=4, help="invocations at once (local)")
    backfill.add_argument("--max-batches", type=int, help="stop after N invocations, as if interrupted")
    backfill.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    backfill.add_argument("--stale", action="store_true",
                          help="also objects whose thumbnails were made under another rule (THUMBNAIL_SIZES, "
                               "_FORMAT, _GRAVITY, _RULES, ... have changed since): one HeadObject each")  # fmt: skip
    backfill.set_defaults(run=run_backfill)


def run_backfill(args: argparse.Namespace) -> int:
    if args.stack:
        session = boto3.Session(region_name=args.region)
        names = ("cloudformation", "lambda", "s3", "s3control", "sts")
        clients = {name: session.client(name) for name in names}
        return backfill_stack(clients, args.stack, args.dry_run, sys.stdout, stale=args.stale)
    with ExitStack() as stack:
        endpoint = args.endpoint_url or stack.enter_context(embedded_s3())
        env = {**_function_settings(os.environ), **({"THUMBNAIL_SIZES": args.sizes} if args.sizes else {})}
        targets = Targets(args.source_bucket, args.resized_bucket, settings_for(args.resized_bucket, env))
        return backfill_local(endpoint, targets, env, args, sys.stderr)
    return 0  # unreachable: ExitStack does not swallow


def _function_settings(environ: Mapping[str, str]) -> dict[str, str]:
    """A local run takes the function's settings from the shell, as the in-process handler does:
    THUMBNAIL_RULES='{...}' thumbnail-local backfill --local --stale."""
    return {name: value for name, value in environ.items()
            if name.startswith(("THUMBNAIL_", "SOURCE_FORMATS", "SOURCE_KEY_PREFIX", "MAX_", "JPEG_", "WEBP_", "AVIF_", "PNG_",
                                "PDF_", "VIDEO_"))}  # fmt: skip


def backfill_stack(clients: Mapping[str, Any], stack: str, dry_run: bool, out: TextIO, stale: bool = False) -> int:
    outputs = stack_outputs(clients["cloudformation"], stack)
    function_arn = outputs["CreateThumbnailFunctionArn"]
    configuration = clients["lambda"].get_function_configuration(FunctionName=function_arn)
    env = configuration.get("Environment", {}).get("Variables", {})
    targets = Targets(
        outputs["SourceBucketName"], outputs["ResizedBucketName"], settings_for(outputs["ResizedBucketName"], env)
    )
    keys = missing_keys(clients["s3"], targets, stale)
    print(f"{len(keys)} source objects in {targets.source_bucket} {_wanting(stale)}", file=out)
    if not keys or dry_run:
        return 0
    job_id = start_job(clients, targets, keys, function_arn, outputs["BatchOperationsRoleArn"])
    print(f"Batch Operations job {job_id} created; failures are reported under "
          f"s3://{targets.resized_bucket}/_backfill/reports/", file=out)  # fmt: skip
    print(job_id)
    return 0


def backfill_local(endpoint: str, targets: Targets, env: Mapping[str, str], args: argparse.Namespace, out: TextIO) -> int:
    s3 = local_s3_client(endpoint)
    with _handler(endpoint, targets.resized_bucket, env) as invoke:
        if args.seed:
            seed(s3, invoke, targets, args.seed)
        keys = missing_keys(s3, targets, getattr(args, "stale", False))
        print(f"{len(keys)} source objects in {targets.source_bucket} {_wanting(getattr(args, 'stale', False))}", file=out)
        if not keys or args.dry_run:
            return 0
        progress = Progress(min(len(keys), (args.max_batches or len(keys)) * args.batch_size), out)
        counts = run_local(invoke, targets.source_bucket, keys, batch_size=args.batch_size,
                           workers=args.workers, progress=progress, max_batches=args.max_batches)  # fmt: skip
    failed = counts.get("PermanentFailure", 0) + counts.get("TemporaryFailure", 0)
    return 1 if failed else 0


def _wanting(stale: bool) -> str:
    return "lack thumbnails or have them from another rule" if stale else "lack thumbnails"


def seed(s3: Any, invoke: Invoke, targets: Targets, count: int) -> None:
    """A bucket like one a team already has: photos, a third already thumbnailed, some text."""
    for bucket in (targets.source_bucket, targets.resized_bucket):
        s3.create_bucket(Bucket=bucket)
    rng = random.Random(count)
    images = []
    for index in range(count):
        if index % 10 == 9:
            s3.put_object(Bucket=targets.source_bucket, Key=f"notes/{index:05d}.txt", Body=b"not an image")
            continue
        key = f"photos/{index // 100:03d}/IMG_{index:05d}.jpg"
        data = encode(photo((rng.randint(300, 800), rng.randint(300, 800)), seed=index), "JPEG", quality=80)
        s3.put_object(Bucket=targets.source_bucket, Key=key, Body=data)
        images.append(key)
    run_local(invoke, targets.source_bucket, images[: len(images) // 3], progress=Progress(len(images) // 3, _Quiet()))


class _Quiet:
    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None: ...

    def isatty(self) -> bool:
        return False


@contextmanager
def _handler(endpoint: str, resized_bucket: str, env: Mapping[str, str]) -> Iterator[Invoke]:
    """The function in this process, its logs and metrics into out/backfill-log.jsonl."""
    variables = {**LOCAL_AWS_ENV, **env, "AWS_ENDPOINT_URL": endpoint,
                 "DESTINATION_BUCKET": resized_bucket, "POWERTOOLS_SERVICE_NAME": "create-thumbnail"}  # fmt: skip
    log_path = Path("out") / "backfill-log.jsonl"
    log_path.parent.mkdir(exist_ok=True)
    with environment(variables), log_path.open("a", encoding="utf-8") as log, redirect_stdout(log):
        from create_thumbnail import app

        app.wiring.cache_clear()
        previous = app.logger.registered_handler.setStream(log)
        try:
            yield lambda event: app.lambda_handler(event, LocalContext(timeout_s=900))
        finally:
            app.logger.registered_handler.setStream(previous)
            app.wiring.cache_clear()
