"""What every local command shares: the embedded S3 (moto's S3 as a real HTTP server on a free
loopback port, so boto3 talks to it over the wire, signing and all, exactly as the deployed
function talks to S3), the local-only credentials, a LambdaContext for in-process invocations,
and progress on stderr for a person at a terminal.

The commands (invoke/, demo/, backfill/) import each other's modules never; what two of them need
lives here, in inputs/ (what the function is fed) or in runtime/ (the built function under the
Runtime Interface Emulator). tests/local_run/test_layout.py holds them to it.
"""

from __future__ import annotations

import logging
import os
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TextIO

import boto3

# Credentials moto accepts; never real ones, so nothing can reach an AWS account by mistake.
LOCAL_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


@contextmanager
def embedded_s3() -> Iterator[str]:
    """Yields the endpoint URL (http://127.0.0.1:PORT) of a fresh, empty moto server.

    moto keeps its buckets per process, not per server: a second server in the same process
    would start with the first one's objects (a test's thumbnails found by the next test as
    duplicates). So the state is reset when a server starts; one process, one S3 at a time."""
    from moto.server import ThreadedMotoServer  # heavy: only the commands that start one pay it

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one access-log line per request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        reset = urllib.request.Request(f"http://{host}:{port}/moto-api/reset", method="POST")
        urllib.request.urlopen(reset, timeout=30).close()  # noqa: S310 - our own loopback server
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@contextmanager
def environment(values: Mapping[str, str]) -> Iterator[None]:
    """Sets variables for the duration and restores the previous ones afterwards."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def local_s3_client(endpoint: str) -> Any:
    """A boto3 S3 client for endpoint with the local-only credentials, whatever the shell holds:
    a typo in an endpoint must not turn into a request signed with someone's real keys."""
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=LOCAL_AWS_ENV["AWS_REGION"],
        aws_access_key_id=LOCAL_AWS_ENV["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=LOCAL_AWS_ENV["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=LOCAL_AWS_ENV["AWS_SESSION_TOKEN"],
    )


# ---- progress: silent under --json, so that stdout carries one JSON document and stderr nothing


class Progress:
    def __init__(self, quiet: bool = False, stream: TextIO | None = None) -> None:
        self.quiet = quiet
        self._stream = stream

    def say(self, message: str) -> None:
        if not self.quiet:
            print(message, file=self._stream or sys.stderr, flush=True)


# ---- a LambdaContext for in-process invocations, with the attributes Powertools reads


@dataclass
class LocalContext:
    function_name: str = "CreateThumbnailFunction"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 1024
    timeout_s: float = 30.0
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/CreateThumbnailFunction"
    log_stream_name: str = "local"
    _started: float = field(default_factory=time.monotonic, repr=False)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_s - (time.monotonic() - self._started)) * 1000))
