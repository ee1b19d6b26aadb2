"""manifests/<key>.json: written after the thumbnails, naming exactly them, with the source's
size and the placeholders; the placeholders on every thumbnail too; removed with them; left
alone by a duplicate; and not written at all with THUMBNAIL_MANIFEST=false. With
DELIVERY_BASE_URL, every rendition's url; a change of it rewrites the manifest, not the
thumbnails. Cache-Control on everything written."""

from __future__ import annotations

import base64
import json
from dataclasses import replace

import blurhash as reference_blurhash
import pytest
import thumbhash as reference_thumbhash
from local_run.inputs.grid import source_bytes
from local_run.inputs.s3_events import load_event, put_event

from create_thumbnail.config import Box, Encoding, Settings
from create_thumbnail.manifest import delivery_url, read_manifest, with_base_url
from create_thumbnail.pipeline import handle_event
from tests.unit.test_pipeline import RESIZED, SOURCE

SETTINGS = Settings(RESIZED, (Box(64, 64), Box(128, 128), Box(48, 48, "cover")), encoding=Encoding(formats=("webp", "jpeg")))
PORTRAIT = source_bytes("RGB", (300, 400), "JPEG", orientation=6)  # 300x400 upright


def _manifest(storage, key: str) -> dict:
    return json.loads(storage.objects[(RESIZED, f"manifests/{key}.json")].data)


def test_the_manifest_names_the_source_every_rendition_and_the_placeholders(storage):
    [outcome] = handle_event(put_event(storage.upload(SOURCE, "p/a b.jpg", PORTRAIT)), SETTINGS, storage).outcomes
    manifest = _manifest(storage, "p/a b.jpg")
    assert set(manifest) == {"source", "renditions", "placeholder", "rule", "created", "base_url"}
    assert manifest["base_url"] is None and not any("url" in r for r in manifest["renditions"])  # delivery off
    source = storage.objects[(SOURCE, "p/a b.jpg")]
    assert manifest["source"] == {"bucket": SOURCE, "key": "p/a b.jpg", "etag": source.etag, "version_id": None,
                                  "size": len(PORTRAIT), "width": 300, "height": 400}  # fmt: skip
    renditions = manifest["renditions"]
    assert [(r["box"], r["fit"], r["format"]) for r in renditions] == [
        ("64x64", "inside", "webp"), ("64x64", "inside", "jpeg"), ("128x128", "inside", "webp"),
        ("128x128", "inside", "jpeg"), ("48x48", "cover", "webp"), ("48x48", "cover", "jpeg"),
    ]  # fmt: skip
    for rendition in renditions:
        stored = storage.objects[(RESIZED, rendition["key"])]
        assert (rendition["bytes"], rendition["content_type"]) == (len(stored.data), stored.content_type)
    assert {(r["width"], r["height"]) for r in renditions} == {(48, 48), (48, 64), (96, 128)}
    assert manifest["rule"] == SETTINGS.default_rule.digest and manifest["created"].endswith("Z")
    assert outcome.as_dict()["manifest"] == "manifests/p/a b.jpg.json"
    assert storage.objects[(RESIZED, "manifests/p/a b.jpg.json")].content_type == "application/json"


def test_every_thumbnail_carries_the_placeholders_the_reference_decoders_read(storage):
    handle_event(put_event(storage.upload(SOURCE, "a.jpg", PORTRAIT)), SETTINGS, storage)
    placeholder = _manifest(storage, "a.jpg")["placeholder"]
    for key in ("64x64/a.jpg", "128x128/a.jpg.webp", "48x48-cover/a.jpg"):
        metadata = storage.objects[(RESIZED, key)].metadata
        assert (metadata["blurhash"], metadata["thumbhash"], metadata["dominant-color"]) == tuple(placeholder.values())
    decoded = reference_blurhash.decode(placeholder["blurhash"], 4, 4)
    assert len(decoded) == 4 and all(len(row) == 4 for row in decoded)
    width, height, _ = reference_thumbhash.thumb_hash_to_rgba(list(base64.b64decode(placeholder["thumbhash"])))
    assert height > width  # the portrait's shape survives in the ThumbHash
    assert placeholder["dominant_color"].startswith("#") and len(placeholder["dominant_color"]) == 7


def test_a_redelivery_rewrites_nothing_and_a_removal_deletes_the_manifest_too(storage):
    event = put_event(storage.upload(SOURCE, "a.jpg", PORTRAIT))
    handle_event(event, SETTINGS, storage)
    snapshot = dict(storage.objects)
    assert handle_event(event, SETTINGS, storage).outcomes[0].status == "duplicate"
    assert storage.objects == snapshot
    removal = load_event("delete.json")
    removal["Records"][0]["s3"]["bucket"]["name"] = SOURCE
    removal["Records"][0]["s3"]["object"].update(key="a.jpg", sequencer="00FFFFFFFFFFFFFFFF")
    del storage.objects[(SOURCE, "a.jpg")]
    [removed] = handle_event(removal, SETTINGS, storage).outcomes
    assert "manifests/a.jpg.json" in removed.removed and storage.keys(RESIZED) == []


def test_a_missing_manifest_makes_a_redelivery_finish_the_job(storage):
    """Written last: if the run stopped before it, the thumbnails alone are not a duplicate."""
    event = put_event(storage.upload(SOURCE, "a.jpg", PORTRAIT))
    handle_event(event, SETTINGS, storage)
    del storage.objects[(RESIZED, "manifests/a.jpg.json")]
    assert handle_event(event, SETTINGS, storage).outcomes[0].status == "created"
    assert (RESIZED, "manifests/a.jpg.json") in storage.objects


def test_no_manifest_when_turned_off(storage):
    settings = replace(SETTINGS, manifest=False)
    [outcome] = handle_event(put_event(storage.upload(SOURCE, "a.jpg", PORTRAIT)), settings, storage).outcomes
    assert not any(key.startswith("manifests/") for key in storage.keys(RESIZED))
    assert "manifest" not in outcome.as_dict()
    assert Settings.from_env({"DESTINATION_BUCKET": RESIZED, "THUMBNAIL_MANIFEST": "false"}).manifest is False


# ---- serving: Cache-Control, urls under DELIVERY_BASE_URL ---------------------------------------

CDN = "https://d111111abcdef8.cloudfront.net"


def test_thumbnails_and_the_manifest_carry_their_cache_control(storage):
    settings = replace(SETTINGS, thumbnail_cache_control="public, max-age=86400", manifest_cache_control="no-cache")
    handle_event(put_event(storage.upload(SOURCE, "a.jpg", PORTRAIT)), settings, storage)
    written = {key: stored.cache_control for (bucket, key), stored in storage.objects.items() if bucket == RESIZED}
    assert written == {
        "64x64/a.jpg": "public, max-age=86400", "64x64/a.jpg.webp": "public, max-age=86400",
        "128x128/a.jpg": "public, max-age=86400", "128x128/a.jpg.webp": "public, max-age=86400",
        "48x48-cover/a.jpg": "public, max-age=86400", "48x48-cover/a.jpg.webp": "public, max-age=86400",
        "manifests/a.jpg.json": "no-cache",
    }  # fmt: skip


def test_a_cache_control_change_alone_leaves_a_redelivery_a_plain_duplicate(storage):
    """Cache-Control is not in the identity: existing thumbnails keep theirs until rewritten
    (docs/configuration.md says how)."""
    event = put_event(storage.upload(SOURCE, "a.jpg", PORTRAIT))
    handle_event(event, SETTINGS, storage)
    snapshot = dict(storage.objects)
    changed = replace(SETTINGS, thumbnail_cache_control="public, max-age=31536000, immutable")
    assert handle_event(event, changed, storage).outcomes[0].status == "duplicate"
    assert storage.objects == snapshot
    assert storage.objects[(RESIZED, "64x64/a.jpg")].cache_control == "public, max-age=300"


@pytest.mark.parametrize(
    ("key", "url"),
    [
        ("256x256/photos/beach.jpg", f"{CDN}/256x256/photos/beach.jpg"),
        ("256x256/Summer 2026/a+b.jpg", f"{CDN}/256x256/Summer%202026/a%2Bb.jpg"),
        ("256x256/100%/#1?.jpg", f"{CDN}/256x256/100%25/%231%3F.jpg"),
        ("256x256/café/猫.png", f"{CDN}/256x256/caf%C3%A9/%E7%8C%AB.png"),
        ("256x256/a\\b;c=d&e.jpg", f"{CDN}/256x256/a%5Cb%3Bc%3Dd%26e.jpg"),
        ("256x256/a//b.jpg", f"{CDN}/256x256/a//b.jpg"),  # an empty segment is kept by browsers
        ("256x256/.hidden/..jpg", f"{CDN}/256x256/.hidden/..jpg"),
        ("256x256/a/../b.jpg", None),  # a browser would ask for 256x256/b.jpg
        ("256x256/./b.jpg", None),
    ],
)
def test_a_url_is_the_key_percent_encoded_segment_by_segment(key, url):
    assert delivery_url(CDN, key) == url


def test_with_a_delivery_base_url_every_rendition_has_its_url_and_old_manifests_still_read(storage):
    settings = replace(SETTINGS, delivery_base_url=f"{CDN}/thumbs")
    handle_event(put_event(storage.upload(SOURCE, "p/Été #1+2.jpg", PORTRAIT)), settings, storage)
    body = storage.objects[(RESIZED, "manifests/p/Été #1+2.jpg.json")].data
    manifest = json.loads(body)
    assert manifest["base_url"] == f"{CDN}/thumbs"
    assert {r["key"]: r["url"] for r in manifest["renditions"]} == {
        "64x64/p/Été #1+2.jpg.webp": f"{CDN}/thumbs/64x64/p/%C3%89t%C3%A9%20%231%2B2.jpg.webp",
        "64x64/p/Été #1+2.jpg": f"{CDN}/thumbs/64x64/p/%C3%89t%C3%A9%20%231%2B2.jpg",
        "128x128/p/Été #1+2.jpg.webp": f"{CDN}/thumbs/128x128/p/%C3%89t%C3%A9%20%231%2B2.jpg.webp",
        "128x128/p/Été #1+2.jpg": f"{CDN}/thumbs/128x128/p/%C3%89t%C3%A9%20%231%2B2.jpg",
        "48x48-cover/p/Été #1+2.jpg.webp": f"{CDN}/thumbs/48x48-cover/p/%C3%89t%C3%A9%20%231%2B2.jpg.webp",
        "48x48-cover/p/Été #1+2.jpg": f"{CDN}/thumbs/48x48-cover/p/%C3%89t%C3%A9%20%231%2B2.jpg",
    }  # fmt: skip
    assert "url" not in manifest["placeholder"]  # placeholders are data, not objects
    listed = read_manifest(body).listed
    assert [item.key for item in listed] == [r["key"] for r in manifest["renditions"]]
    # A manifest from before urls and base_url existed reads the same, with no base URL.
    renditions = [{k: v for k, v in r.items() if k != "url"} for r in manifest["renditions"]]
    older = json.dumps({k: v for k, v in manifest.items() if k != "base_url"} | {"renditions": renditions}).encode()
    assert read_manifest(older).listed == listed
    assert read_manifest(older).base_url is None
    assert read_manifest(b"{not json").listed == () and read_manifest(b"{not json").document is None


def test_with_base_url_replaces_the_urls_and_keeps_everything_else():
    manifest = {"source": {"key": "a.jpg"}, "renditions": [{"key": "64x64/a b.jpg", "etag": "e", "url": "https://old/x"}],
                "rule": "r", "created": "c", "base_url": "https://old"}  # fmt: skip
    assert with_base_url(manifest, CDN) == {**manifest, "renditions": [{"key": "64x64/a b.jpg", "etag": "e",
                                            "url": f"{CDN}/64x64/a%20b.jpg"}], "base_url": CDN}  # fmt: skip
    assert with_base_url(manifest, None) == {**manifest, "renditions": [{"key": "64x64/a b.jpg", "etag": "e"}],
                                             "base_url": None}  # fmt: skip


def test_a_new_delivery_base_url_rewrites_the_manifest_on_the_next_event_and_no_thumbnail(storage):
    event = put_event(storage.upload(SOURCE, "a.jpg", PORTRAIT))
    handle_event(event, SETTINGS, storage)
    thumbnails = {k: v for k, v in storage.objects.items() if not k[1].startswith("manifests/")}
    before = _manifest(storage, "a.jpg")
    served = replace(SETTINGS, delivery_base_url=CDN)
    requests = storage.requests.copy()
    [outcome] = handle_event(event, served, storage).outcomes
    assert (outcome.status, outcome.reason) == (
        "duplicate", "thumbnails already record the current object; manifest rewritten for DELIVERY_BASE_URL"
    )
    # the plain duplicate's source GET, manifest GET and a HEAD per thumbnail; then the manifest's
    # PUT and the HEAD of the source after a write
    assert storage.requests - requests == {"GET": 2, "HEAD": 7, "PUT": 1}
    assert storage.reads == 1  # the source's body was read once, by the first event only
    assert {k: v for k, v in storage.objects.items() if not k[1].startswith("manifests/")} == thumbnails
    after = _manifest(storage, "a.jpg")
    assert after == with_base_url(before, CDN) and after["created"] == before["created"]
    assert storage.objects[(RESIZED, "manifests/a.jpg.json")].cache_control == "no-cache"
    # Again with the same base URL: a plain duplicate, nothing written.
    snapshot, requests = dict(storage.objects), storage.requests.copy()
    assert handle_event(event, served, storage).outcomes[0].reason == "thumbnails already record the current object"
    assert storage.requests - requests == {"GET": 2, "HEAD": 6} and storage.objects == snapshot
    # Delivery turned off again: the urls go.
    handle_event(event, SETTINGS, storage)
    assert _manifest(storage, "a.jpg") == with_base_url(before, None) == before


def test_a_duplicate_without_delivery_costs_what_it_always_did(storage):
    """A manifest from before base_url existed, and no DELIVERY_BASE_URL: no rewrite."""
    event = put_event(storage.upload(SOURCE, "a.jpg", PORTRAIT))
    handle_event(event, SETTINGS, storage)
    key = (RESIZED, "manifests/a.jpg.json")
    old = {k: v for k, v in json.loads(storage.objects[key].data).items() if k != "base_url"}
    storage.objects[key] = replace(storage.objects[key], data=json.dumps(old).encode())
    snapshot, requests = dict(storage.objects), storage.requests.copy()
    assert handle_event(event, SETTINGS, storage).outcomes[0].status == "duplicate"
    assert storage.requests - requests == {"GET": 2, "HEAD": 6}  # source, manifest; six thumbnails
    assert storage.objects == snapshot
