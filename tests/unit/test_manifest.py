"""manifests/<key>.json: written after the thumbnails, naming exactly them, with the source's
size and the placeholders; the placeholders on every thumbnail too; removed with them; left
alone by a duplicate; and not written at all with THUMBNAIL_MANIFEST=false."""

from __future__ import annotations

import base64
import json
from dataclasses import replace

import blurhash as reference_blurhash
import thumbhash as reference_thumbhash
from local_run.inputs.grid import source_bytes
from local_run.inputs.s3_events import load_event, put_event

from create_thumbnail.config import Box, Encoding, Settings
from create_thumbnail.pipeline import handle_event
from tests.unit.test_pipeline import RESIZED, SOURCE

SETTINGS = Settings(RESIZED, (Box(64, 64), Box(128, 128), Box(48, 48, "cover")), encoding=Encoding(formats=("webp", "jpeg")))
PORTRAIT = source_bytes("RGB", (300, 400), "JPEG", orientation=6)  # 300x400 upright


def _manifest(storage, key: str) -> dict:
    return json.loads(storage.objects[(RESIZED, f"manifests/{key}.json")].data)


def test_the_manifest_names_the_source_every_rendition_and_the_placeholders(storage):
    [outcome] = handle_event(put_event(storage.upload(SOURCE, "p/a b.jpg", PORTRAIT)), SETTINGS, storage).outcomes
    manifest = _manifest(storage, "p/a b.jpg")
    assert set(manifest) == {"source", "renditions", "placeholder", "rule", "created"}
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
