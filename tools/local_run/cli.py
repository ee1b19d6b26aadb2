"""thumbnail-local: the project's Docker-free local tooling."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from local_run.backfill.command import add_backfill
from local_run.demo.command import run_demo
from local_run.inputs.s3_events import generated_put_event
from local_run.invoke.command import InvokeResult, read_event, run_invoke
from local_run.runtime.build import BuildError
from local_run.runtime.function import prepare_function
from local_run.runtime.function_env import EnvVarsError, read_env_vars
from local_run.runtime.rie import EmulatorError
from local_run.runtime.template import TemplateError
from local_run.shared import Progress

# Problems with the inputs or the machine, told in one line; anything else is a bug: traceback.
SETUP_ERRORS = (
    BuildError,
    EmulatorError,
    EnvVarsError,
    TemplateError,
    json.JSONDecodeError,
    FileNotFoundError,
    IsADirectoryError,
    PermissionError,
)


def _add_demo(commands: Any) -> None:
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
    _add_build_options(demo)
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


def _add_build_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-t",
        "--template-file",
        "--template",
        dest="template",
        type=Path,
        default=Path("template.yaml"),
        help="SAM template (default: template.yaml)",
    )
    parser.add_argument(
        "--build-dir",
        type=Path,
        help="where the build for this machine goes (default: .aws-sam/local-<arch> beside the "
        "template)",
    )


def _add_invoke(commands: Any) -> None:
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
    _add_build_options(invoke)
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


def _add_generate_event(commands: Any) -> None:
    generate = commands.add_parser(
        "generate-event", help="print an event as the AWS service sends it"
    )
    sources = generate.add_subparsers(dest="source", required=True)
    put = sources.add_parser("put", help="an S3 ObjectCreated:Put notification")
    put.add_argument("--bucket", required=True)
    put.add_argument("--key", required=True, help="the object key, unencoded ('a b+c.jpg')")
    put.add_argument("--size", type=int, default=1024, help="object size in bytes (default: 1024)")
    put.add_argument("--etag", help="the object's ETag; left out unless given (see docs/local-invoke.md)")
    put.add_argument("--region", default="us-east-1")
    put.set_defaults(
        run=lambda args: _print_json(
            generated_put_event(args.bucket, args.key, args.size, args.etag, args.region)
        )
    )


def _print_json(document: Any) -> int:
    print(json.dumps(document, indent=2, ensure_ascii=False))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="thumbnail-local", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    _add_demo(commands)
    _add_invoke(commands)
    _add_generate_event(commands)
    add_backfill(commands)
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except SETUP_ERRORS as error:
        print(f"thumbnail-local: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
