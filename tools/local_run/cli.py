"""thumbnail-local: the project's Docker-free local tooling."""

from __future__ import annotations

import argparse
from pathlib import Path

from local_run.demo import run_demo


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="thumbnail-local", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo", help="run the handler end to end on an embedded S3 and print a summary table"
    )
    demo.add_argument("--out", type=Path, default=Path("out"), help="where thumbnails go (default: out/)")
    demo.add_argument(
        "--sizes", help="THUMBNAIL_SIZES for the run, e.g. 256x256,1024x1024 (default: the function's)"
    )
    args = parser.parse_args(argv)
    if args.command == "demo":
        return run_demo(args.out, args.sizes)
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
