"""`thumbnail-local invoke`: `sam local invoke` without Docker.

The same inputs as sam local invoke (template, function, event, --env-vars file) and the same
artifact (`sam build`, for this machine's CPU), run by the same emulator sam runs inside its
container, against moto's S3 on loopback (or any S3-compatible endpoint given). What differs
from Lambda is listed in docs/local-invoke.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local_run.invoke.seeding import Seeded, created_objects, ensure_buckets, seed_event_objects
from local_run.runtime.function import LocalFunction, add_build_options, prepare_function
from local_run.runtime.function_env import function_environment, read_env_vars
from local_run.runtime.rie import Emulator, Invocation
from local_run.shared import Progress, embedded_s3, local_s3_client


@dataclass
class InvokeResult:
    invocation: Invocation
    seeded: list[Seeded]
    ignored_env: tuple[str, ...]
    objects: dict[str, list[dict[str, Any]]]  # local bucket -> [{"key", "size"}] after the run


@contextmanager
def local_s3(endpoint_url: str | None, progress: Progress) -> Iterator[str]:
    """endpoint_url as given, or a fresh embedded S3 for the duration."""
    if endpoint_url:
        progress.say(f"using the S3 at {endpoint_url}")
        yield endpoint_url
        return
    progress.say("starting the embedded S3 (moto server on 127.0.0.1) ...")
    with embedded_s3() as endpoint:
        yield endpoint


def list_objects(s3: Any, buckets: list[str]) -> dict[str, list[dict[str, Any]]]:
    listing: dict[str, list[dict[str, Any]]] = {}
    for bucket in buckets:
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        listing[bucket] = [
            {"key": item["Key"], "size": item["Size"]}
            for page in pages
            for item in page.get("Contents", [])
        ]
    return listing


def read_event(path: str | None, stdin_text: Callable[[], str]) -> Any:
    """-e FILE, -e - for stdin, or none: sam local invoke sends {} then."""
    if path is None:
        return {}
    text = stdin_text() if path == "-" else Path(path).read_text(encoding="utf-8")
    return json.loads(text)


def run_invoke(
    local: LocalFunction,
    event: Any,
    env_vars: dict[str, dict[str, Any]],
    endpoint_url: str | None,
    progress: Progress,
    on_log: Callable[[str], None] | None,
) -> InvokeResult:
    with local_s3(endpoint_url, progress) as endpoint:
        s3 = local_s3_client(endpoint)
        environment = function_environment(local.spec, env_vars, endpoint)
        for name in environment.ignored:
            progress.say(
                f"--env-vars: {name} is not declared in the template's Environment: "
                "ignored, as sam local invoke ignores it"
            )
        ensure_buckets(s3, [*local.buckets.values(), *(c.bucket for c in created_objects(event))])
        seeded = seed_event_objects(s3, event)
        for item in seeded:
            progress.say(f"seeded s3://{item.bucket}/{item.key}: {item.what}, {item.size:,} bytes")
        progress.say(
            f"invoking {local.spec.logical_id} under the Lambda Runtime Interface Emulator "
            f"(timeout {local.spec.timeout_s} s, memory {local.spec.memory_mb} MB)"
        )
        emulator = Emulator(
            local.spec, local.built.function_dir, environment.variables, local.build_root, on_log
        )
        with emulator:
            invocation = emulator.invoke(event)
        # The function's buckets as configured for this run (--env-vars may point elsewhere).
        used = sorted(set(local.buckets.values()) & set(environment.variables.values()))
        objects = list_objects(s3, used)
    return InvokeResult(invocation, seeded, environment.ignored, objects)


def add_invoke(commands: Any) -> None:
    invoke = commands.add_parser(
        "invoke",
        help="sam local invoke without Docker: the built function under the Lambda Runtime "
        "Interface Emulator, against an embedded S3",
    )
    invoke.add_argument(
        "function_logical_id",
        nargs="?",
        metavar="FUNCTION_LOGICAL_ID",
        help="the function to run (may be left out when the template has one)",
    )
    invoke.add_argument(
        "--function", dest="function_option", metavar="LOGICAL_ID", help="the same, as an option"
    )
    invoke.add_argument("-e", "--event", help="JSON event file, or - for stdin (default: {})")
    invoke.add_argument(
        "-n",
        "--env-vars",
        type=Path,
        help="JSON file of variable overrides, as for sam local invoke --env-vars",
    )
    invoke.add_argument(
        "--endpoint-url", help="an S3-compatible endpoint to use instead of the embedded S3"
    )
    invoke.add_argument("--json", action="store_true", help="print one JSON document, nothing else")
    add_build_options(invoke)
    invoke.set_defaults(run=_run_invoke)


def _run_invoke(args: argparse.Namespace) -> int:
    progress = Progress(quiet=args.json)
    event = read_event(args.event, sys.stdin.read)
    env_vars = read_env_vars(args.env_vars) if args.env_vars else {}
    local = prepare_function(
        args.template, args.function_logical_id or args.function_option, args.build_dir, progress
    )
    on_log = None if args.json else (lambda line: print(line, file=sys.stderr, flush=True))
    result = run_invoke(local, event, env_vars, args.endpoint_url, progress, on_log)
    if args.json:
        print(json.dumps(_invoke_document(local.spec.logical_id, result), indent=2))
    else:
        _print_invoke(result)
    return 1 if result.invocation.error else 0


def _invoke_document(function: str, result: InvokeResult) -> dict[str, Any]:
    invocation = result.invocation
    return {
        "function": function,
        "response": invocation.response,
        "error": invocation.error,
        "report": invocation.report.as_dict(),
        "logs": invocation.logs,
        "seeded": [vars(item) for item in result.seeded],
        "ignored_env_vars": list(result.ignored_env),
        "objects": result.objects,
    }


def _print_invoke(result: InvokeResult) -> None:
    """As sam local invoke: logs and REPORT on stderr, the response alone on stdout."""
    invocation = result.invocation
    print(invocation.report.line(), file=sys.stderr)
    print(invocation.payload.decode("utf-8", errors="replace"), flush=True)
    for bucket, objects in result.objects.items():
        listed = ", ".join(f"{o['key']} ({o['size']:,} bytes)" for o in objects) or "empty"
        print(f"s3://{bucket}: {listed}", file=sys.stderr)
    if invocation.error:
        error = invocation.error
        print(
            f"thumbnail-local: the function failed: {error['errorType']}: {error['errorMessage']}",
            file=sys.stderr,
        )
