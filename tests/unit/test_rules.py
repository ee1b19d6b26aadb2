"""What the pipeline writes per key: every box in every format of the key's rule, the rule's digest
on each thumbnail, the object's own focal point, and source formats by SOURCE_FORMATS."""

from __future__ import annotations

import json
from dataclasses import replace

from local_run.inputs.grid import decode, source_bytes
from local_run.inputs.s3_events import put_event, put_record
from local_run.inputs.samples import encode

from create_thumbnail.config import ALL_SOURCE_FORMATS, Box, Encoding, Settings
from create_thumbnail.pipeline import handle_event
from tests.unit.test_cover import _reddest_column, _scene
from tests.unit.test_pipeline import PHOTO, RESIZED, SOURCE

AVATARS = {"avatars/": {"sizes": "64x64:cover", "formats": "webp,jpeg", "gravity": "centre"}}
SETTINGS = Settings.from_env({
    "DESTINATION_BUCKET": RESIZED, "THUMBNAIL_SIZES": "128x128,96x96:cover",
    "THUMBNAIL_FORMAT": "avif,webp,jpeg", "THUMBNAIL_RULES": json.dumps(AVATARS),
})  # fmt: skip


def test_three_formats_per_box_each_with_its_content_type(storage):
    [outcome] = handle_event(put_event(storage.upload(SOURCE, "a.jpg", PHOTO)), SETTINGS, storage).outcomes
    written = {(t.key, t.content_type) for t in outcome.thumbnails}
    assert written == {
        ("128x128/a.jpg.avif", "image/avif"), ("128x128/a.jpg.webp", "image/webp"), ("128x128/a.jpg", "image/jpeg"),
        ("96x96-cover/a.jpg.avif", "image/avif"), ("96x96-cover/a.jpg.webp", "image/webp"), ("96x96-cover/a.jpg", "image/jpeg"),
    }  # fmt: skip
    for key, content_type in written:
        stored = storage.objects[(RESIZED, key)]
        assert decode(stored.data).format == content_type.split("/")[1].upper()
        assert stored.content_type == content_type
        assert stored.metadata["thumbnail-rule"] == SETTINGS.default_rule.digest
    assert decode(storage.objects[(RESIZED, "96x96-cover/a.jpg")].data).size == (96, 96)


def test_a_redelivery_checks_every_thumbnail_and_writes_nothing(storage):
    event = put_event(storage.upload(SOURCE, "a.jpg", PHOTO))
    handle_event(event, SETTINGS, storage)
    requests = storage.requests.copy()
    assert handle_event(event, SETTINGS, storage).outcomes[0].status == "duplicate"
    assert storage.requests - requests == {"GET": 2, "HEAD": 6}  # source, manifest; two boxes x three formats


def test_a_key_under_a_rule_gets_the_rules_boxes_formats_and_digest(storage):
    [outcome] = handle_event(put_event(storage.upload(SOURCE, "avatars/ann.jpg", PHOTO)), SETTINGS, storage).outcomes
    assert sorted(t.key for t in outcome.thumbnails) == ["64x64-cover/avatars/ann.jpg", "64x64-cover/avatars/ann.jpg.webp"]
    rule = SETTINGS.rule_for("avatars/ann.jpg")
    assert storage.objects[(RESIZED, "64x64-cover/avatars/ann.jpg")].metadata["thumbnail-rule"] == rule.digest
    assert rule.digest != SETTINGS.default_rule.digest


def test_a_changed_rule_makes_a_redelivered_event_render_again(storage):
    event = put_event(storage.upload(SOURCE, "a.jpg", PHOTO))
    handle_event(event, SETTINGS, storage)
    changed = replace(SETTINGS, gravity="centre")
    assert handle_event(event, changed, storage).outcomes[0].status == "created"


def test_the_objects_focal_point_moves_the_crop(storage):
    settings = Settings(RESIZED, (Box(100, 100, "cover"),), gravity="centre")
    data = encode(_scene((560, 150)), "PNG")
    storage.add(SOURCE, "left.png", data, metadata={"focal-point": "0.05,0.5"})
    storage.add(SOURCE, "right.png", data, metadata={"focal-point": "0.95,0.5"})
    storage.add(SOURCE, "bad.png", data, metadata={"focal-point": "left"})
    records = [put_record(SOURCE, key, len(data), "") for key in ("left.png", "right.png", "bad.png")]
    outcomes = handle_event(put_event(*records), settings, storage).outcomes
    assert _reddest_column(decode(storage.objects[(RESIZED, "100x100-cover/right.png")].data)) > 50
    assert decode(storage.objects[(RESIZED, "100x100-cover/left.png")].data).convert("RGB").getpixel((95, 50)) == (120, 120, 120)
    assert outcomes[2].warnings == ("x-amz-meta-focal-point 'left' is not 'X,Y' with both from 0 to 1: ignored",)


def test_other_source_formats_are_skipped_by_default_and_thumbnailed_when_enabled(storage):
    files = {"a.webp": ("WEBP", "RGB"), "b.gif": ("GIF", "P"), "c.tiff": ("TIFF", "RGB"),
             "d.heic": ("HEIF", "RGB"), "e.avif": ("AVIF", "RGB")}  # fmt: skip
    event = put_event(*(storage.upload(SOURCE, key, source_bytes(mode, (300, 200), fmt)) for key, (fmt, mode) in files.items()))
    plain = Settings(RESIZED, (Box(64, 64),))
    for outcome in handle_event(event, plain, storage).outcomes:
        assert (outcome.status, outcome.reason) == ("skipped", "not a .jpg/.jpeg/.png key")
    every = replace(plain, source_formats=ALL_SOURCE_FORMATS)
    outcomes = handle_event(event, every, storage).outcomes
    assert [o.status for o in outcomes] == ["created"] * 5
    assert [k for k in storage.keys(RESIZED) if not k.startswith("manifests/")] == [
        "64x64/a.webp", "64x64/b.gif.png", "64x64/c.tiff.jpg", "64x64/d.heic.jpg", "64x64/e.avif"]


def test_an_animated_gif_stays_animated_when_asked(storage):
    from PIL import Image

    frames = [Image.new("RGB", (200, 100), (40 * i, 100, 100)) for i in range(4)]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=70, loop=0)
    settings = Settings(RESIZED, (Box(64, 64),), source_formats=ALL_SOURCE_FORMATS,
                        encoding=Encoding(formats=("source", "webp"), animated=True))  # fmt: skip
    [outcome] = handle_event(put_event(storage.upload(SOURCE, "a.gif", data)), settings, storage).outcomes
    for key in ("64x64/a.gif", "64x64/a.gif.webp"):
        image = Image.open(__import__("io").BytesIO(storage.objects[(RESIZED, key)].data))
        assert (image.n_frames, image.size) == (4, (64, 32))
    first_frame_only = replace(settings, encoding=Encoding(formats=("source",), animated=True, max_frames=3))
    [capped] = handle_event(put_event(storage.upload(SOURCE, "b.gif", data)), first_frame_only, storage).outcomes
    assert capped.warnings == ("animation of 4 frames kept as its first frame: over MAX_FRAMES (3)",)
    assert [t.key for t in capped.thumbnails] == ["64x64/b.gif.png"]
