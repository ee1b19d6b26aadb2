"""Laptop-side tooling for the function: `thumbnail-local` (cli.py) and its commands.

    cli.py      the command line: parses, then hands over to one command
    invoke/     `sam local invoke` without Docker
    demo/       the end-to-end run on the embedded S3, its report and gallery
    backfill/   thumbnails for objects already in a bucket
    runtime/    the built function under the Runtime Interface Emulator (invoke, demo, rehearsal)
    inputs/     sample images, ICC profiles, hostile files, S3-shaped events (also tests, benchmarks)
    shared.py   the embedded S3, local credentials, progress, a LambdaContext

A command never imports another command; runtime/, inputs/ and shared.py never import a
command (tests/local_run/test_layout.py). Lives outside src/ because template.yaml's CodeUri
(src/) is exactly what ships to Lambda.
"""
