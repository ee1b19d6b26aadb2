"""moto's S3 as a real HTTP server on a free loopback port: boto3 talks to it over the wire,
signing and all, exactly as the deployed function talks to S3."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

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
    """Yields the endpoint URL (http://127.0.0.1:PORT) of a fresh, empty moto server."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one access-log line per request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
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
