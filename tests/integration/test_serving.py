"""What serving the resized bucket relies on, through the real handler on moto's S3 over HTTP:
every object written carries its Cache-Control, the manifest's urls fetch the very thumbnails
(keys with spaces, '+', '%', '#', '?' and non-ASCII), and a redelivery costs the requests it
always did unless the manifest's urls must change."""

from __future__ import annotations

import json
import urllib.request
from collections import Counter
from typing import Any

from local_run.inputs.grid import source_bytes
from local_run.inputs.s3_events import put_event
from local_run.shared import environment

from tests.integration.uploads import keys, upload

KEY = "photos/Été #1+2 100%?.jpg"
JPEG = source_bytes("RGB", (300, 200), "JPEG")


def _rewired(values: dict[str, str]) -> Any:
    """The handler's environment changed as a redeploy would change it: read afresh."""
    from create_thumbnail import app

    context = environment(values)
    app.wiring.cache_clear()
    return context


def _manifest(s3: Any, bucket: str, key: str) -> dict[str, Any]:
    return json.loads(s3.get_object(Bucket=bucket, Key=f"manifests/{key}.json")["Body"].read())


def test_every_object_written_carries_its_cache_control_by_default(s3, buckets, handler, lambda_context):
    reply = handler(put_event(upload(s3, buckets.source, KEY, JPEG)), lambda_context)
    assert reply["created"] == 1
    written = keys(s3, buckets.resized)
    assert written == [f"256x256/{KEY}", f"64x64/{KEY}", f"manifests/{KEY}.json"]  # listed in key order
    for key in written:
        expected = "no-cache" if key.startswith("manifests/") else "public, max-age=300"
        assert s3.head_object(Bucket=buckets.resized, Key=key)["CacheControl"] == expected, key
        assert s3.get_object(Bucket=buckets.resized, Key=key)["CacheControl"] == expected, key
    assert _manifest(s3, buckets.resized, KEY)["base_url"] is None


def test_the_manifests_urls_fetch_the_thumbnails_with_their_headers(s3_endpoint, s3, buckets, handler, lambda_context):
    """moto serves path-style, and unsigned reads once a policy allows them (as a CDN's origin
    access is allowed): the URL a browser would send must reach the object the key names."""
    s3.put_bucket_policy(Bucket=buckets.resized, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{buckets.resized}/*"}]}))  # fmt: skip
    base = f"{s3_endpoint}/{buckets.resized}/"
    settings = {"DELIVERY_BASE_URL": base, "THUMBNAIL_CACHE_CONTROL": "public, max-age=86400, immutable",
                "MANIFEST_CACHE_CONTROL": "max-age=0, must-revalidate"}  # fmt: skip
    with _rewired(settings):
        handler(put_event(upload(s3, buckets.source, KEY, JPEG)), lambda_context)
    manifest = _manifest(s3, buckets.resized, KEY)
    assert manifest["base_url"] == base.rstrip("/")
    encoded = "photos/%C3%89t%C3%A9%20%231%2B2%20100%25%3F.jpg"
    assert [r["url"] for r in manifest["renditions"]] == [f"{base}64x64/{encoded}", f"{base}256x256/{encoded}"]
    for rendition in manifest["renditions"]:
        with urllib.request.urlopen(rendition["url"]) as response:  # noqa: S310 - our own loopback URL
            body, cache_control = response.read(), response.headers["Cache-Control"]
        stored = s3.get_object(Bucket=buckets.resized, Key=rendition["key"])
        assert (body, cache_control) == (stored["Body"].read(), "public, max-age=86400, immutable")
        assert stored["ETag"].strip('"') == rendition["etag"]
    head = s3.head_object(Bucket=buckets.resized, Key=f"manifests/{KEY}.json")
    assert head["CacheControl"] == "max-age=0, must-revalidate"


def test_a_redelivery_costs_the_same_requests_unless_the_base_url_changed(s3, buckets, handler, faults, lambda_context):
    event = put_event(upload(s3, buckets.source, KEY, JPEG))
    assert handler(event, lambda_context)["created"] == 1

    def requests(settings: dict[str, str]) -> tuple[str, Counter[str]]:
        faults.log.clear()
        with _rewired(settings):
            [record] = handler(event, lambda_context)["records"]
        return record["status"], Counter(exchange.method for exchange in faults.log)

    # The plain duplicate: the source's GET (body unread), the manifest's GET, a HEAD per thumbnail.
    assert requests({}) == ("duplicate", Counter({"GET": 2, "HEAD": 2}))
    assert requests({"THUMBNAIL_CACHE_CONTROL": "public, max-age=60"}) == ("duplicate", Counter({"GET": 2, "HEAD": 2}))
    # A new base URL: the manifest rewritten If-Match, then the source's HEAD; no thumbnail written.
    thumbnails = {k: s3.head_object(Bucket=buckets.resized, Key=k)["ETag"] for k in (f"64x64/{KEY}", f"256x256/{KEY}")}
    cdn = {"DELIVERY_BASE_URL": "https://d111111abcdef8.cloudfront.net"}
    assert requests(cdn) == ("duplicate", Counter({"GET": 2, "HEAD": 3, "PUT": 1}))
    assert [r["url"].split("/")[2] for r in _manifest(s3, buckets.resized, KEY)["renditions"]] == [
        "d111111abcdef8.cloudfront.net"] * 2  # fmt: skip
    assert thumbnails == {k: s3.head_object(Bucket=buckets.resized, Key=k)["ETag"] for k in thumbnails}
    assert requests(cdn) == ("duplicate", Counter({"GET": 2, "HEAD": 2}))  # recorded: plain again
