"""S3 event notifications built the way S3 builds them, from events/put.json as the template."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

EVENTS_DIR = Path(__file__).resolve().parents[2] / "events"


def load_event(name: str) -> dict[str, Any]:
    """A payload from events/, as sam local invoke -e and the console would send it."""
    return json.loads((EVENTS_DIR / name).read_text(encoding="utf-8"))


@cache
def _put_record() -> dict[str, Any]:
    return load_event("put.json")["Records"][0]


def encode_key(key: str) -> str:
    """S3 form-encodes keys in notifications: space -> '+', '+' -> '%2B', '/' kept."""
    return quote_plus(key, safe="/")


def put_record(bucket: str, key: str, size: int, etag: str, sequencer: str = "") -> dict[str, Any]:
    record = copy.deepcopy(_put_record())
    record["s3"]["bucket"]["name"] = bucket
    record["s3"]["bucket"]["arn"] = f"arn:aws:s3:::{bucket}"
    obj = record["s3"]["object"]
    obj.update(key=encode_key(key), size=size, eTag=etag.strip('"'))
    if sequencer:
        obj["sequencer"] = sequencer
    return record


def put_event(*records: dict[str, Any]) -> dict[str, Any]:
    return {"Records": list(records)}
