"""thumbnail-local: the project's Docker-free local tooling.

Each command adds its own parser (demo/, invoke/, backfill/, eventbridge/); this module registers them and
turns set-up errors into one line.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from local_run.backfill.command import add_backfill
from local_run.demo.command import add_demo
from local_run.eventbridge.command import add_enable_eventbridge
from local_run.inputs.s3_events import generated_put_event
from local_run.invoke.command import add_invoke
from local_run.runtime.build import BuildError
from local_run.runtime.function_env import EnvVarsError
from local_run.runtime.rie import EmulatorError
from local_run.runtime.template import TemplateError

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
# Ours: a module of these missing is a bug. Any other is a tool this venv was not given:
# ./scripts/demo installs the demo's set alone (pyproject.toml's demo extra), and `invoke` or
# `demo --runtime rie` need the SAM CLI from the test set.
OWN_PACKAGES = {"create_thumbnail", "local_run", "failed_events"}


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
    parser = argparse.ArgumentParser(prog="thumbnail-local", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    add_demo(commands)
    add_invoke(commands)
    _add_generate_event(commands)
    add_backfill(commands)
    add_enable_eventbridge(commands)
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except SETUP_ERRORS as error:
        print(f"thumbnail-local: {error}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as error:
        if (error.name or "").partition(".")[0] in OWN_PACKAGES:
            raise
        print(f"thumbnail-local: {error}: this command needs the test set's tools; "
              "./scripts/bootstrap.sh test installs them", file=sys.stderr)  # fmt: skip
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
