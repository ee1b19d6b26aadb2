"""thumbnail-local enable-eventbridge --bucket NAME: the one safe way to turn a bucket's
EventBridge notifications on (notifications.py says why the obvious command is not)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

import boto3

from local_run.eventbridge.notifications import Enabled, NotificationsChanged, configuration, enable, is_on


def add_enable_eventbridge(commands: Any) -> None:
    command = commands.add_parser(
        "enable-eventbridge",
        help="turn a bucket's EventBridge notifications on, keeping its other notifications",
    )
    command.add_argument("--bucket", required=True, help="the source bucket (ExistingSourceBucket)")
    command.add_argument("--check", action="store_true", help="only say whether they are on; exit 3 if off")
    command.add_argument("--region", help="the bucket's region (default: your profile's)")
    command.add_argument("--endpoint-url", help="an S3-compatible endpoint (LocalStack, moto_server)")
    command.set_defaults(run=run_enable_eventbridge)


def run_enable_eventbridge(args: argparse.Namespace) -> int:
    s3 = boto3.Session(region_name=args.region).client("s3", endpoint_url=args.endpoint_url)
    return enable_eventbridge(s3, args.bucket, args.check, sys.stdout)


def enable_eventbridge(s3: Any, bucket: str, check: bool, out: TextIO) -> int:
    if check:
        on = is_on(configuration(s3, bucket))
        print(f"s3://{bucket}: EventBridge notifications are {'on' if on else 'OFF: nothing reaches the function'}", file=out)
        return 0 if on else 3
    try:
        result = enable(s3, bucket)
    except NotificationsChanged as error:
        print(f"enable-eventbridge: {error}", file=out)
        return 1
    _report(result, out)
    return 0


def _report(result: Enabled, out: TextIO) -> None:
    others = {kind: entries for kind, entries in result.after.items() if kind != "EventBridgeConfiguration"}
    kept = sum(len(entries) for entries in others.values())
    state = "turned on" if result.changed else "already on, nothing written"
    print(f"s3://{result.bucket}: EventBridge notifications {state}; "
          f"{kept} other notification{'s' if kept != 1 else ''} kept as they were", file=out)  # fmt: skip
    if kept:
        print(json.dumps(others, indent=2, sort_keys=True), file=out)
