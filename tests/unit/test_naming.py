from __future__ import annotations

from urllib.parse import unquote

import pytest

from create_thumbnail.config import Box, Encoding, Rule
from create_thumbnail.errors import DestinationKeyTooLong
from create_thumbnail.events import ObjectRef
from create_thumbnail.naming import destination_key, expected_keys, skip_reason, thumbnail_metadata

DEFAULT = ("jpeg", "png")
ALL = ("jpeg", "png", "webp", "gif", "tiff", "heif", "avif")


@pytest.mark.parametrize("key", ["a.jpg", "b/c.JPG", "d.jpeg", "e.JPEG", "f.png", "g/h.PnG"])
def test_jpeg_and_png_keys_in_any_case_are_taken(key):
    assert skip_reason(ObjectRef("src", key, size=10), DEFAULT) is None


@pytest.mark.parametrize(
    ("key", "size", "reason"),
    [
        ("photos/", 0, "folder marker"),
        ("photos/x.jpg/", None, "folder marker"),
        ("notes.txt", 5, "not a .jpg/.jpeg/.png key"),
        ("photo.jpg.exe", 5, "not a .jpg/.jpeg/.png key"),
        ("jpg", 5, "not a .jpg/.jpeg/.png key"),
        ("empty.png", 0, "empty object"),
    ],
)
def test_other_keys_are_skipped_with_a_reason(key, size, reason):
    assert reason in skip_reason(ObjectRef("src", key, size=size), DEFAULT)


def test_destination_key_is_box_prefix_plus_source_key():
    assert destination_key("photos/Summer 2026/café.JPG", Box(256, 128)) == "256x128/photos/Summer 2026/café.JPG"


def test_destination_key_over_s3_limit_is_refused():
    long_key = "k/" + "é" * 510  # 1022 bytes: fits as a source, not with the prefix
    with pytest.raises(DestinationKeyTooLong, match="1024-byte limit"):
        destination_key(long_key, Box(256, 256))


def test_metadata_is_ascii_and_names_the_source():
    ref = ObjectRef("src-bucket", "photos/café + friends.jpg", etag='"abc123"', version_id="v1", size=3)
    rule = Rule((Box(256, 256),))
    metadata = thumbnail_metadata(ref, Box(256, 256), rule)
    assert all(value.isascii() for value in metadata.values())
    assert unquote(metadata["source-key"]) == ref.key
    assert metadata == {
        "source-bucket": "src-bucket",
        "source-key": metadata["source-key"],
        "source-etag": "abc123",
        "source-size": "3",
        "source-version-id": "v1",
        "thumbnail-box": "256x256",
        "thumbnail-rule": rule.digest,
    }


def test_rule_digest_changes_with_every_setting_that_changes_a_thumbnail():
    """The duplicate check compares it: a changed setting must make thumbnails again."""
    boxes = (Box(256, 256),)
    variants = [
        Rule(boxes),
        Rule((Box(256, 256, "cover"),)),
        Rule((Box(256, 255),)),
        Rule(boxes, gravity="centre"),
        Rule(boxes, Encoding(formats=("webp",))),
        Rule(boxes, Encoding(formats=("source", "webp"))),
        Rule(boxes, Encoding(jpeg_quality=84)),
        Rule(boxes, Encoding(webp_quality=79)),
        Rule(boxes, Encoding(avif_quality=59)),
        Rule(boxes, Encoding(png_compress_level=1)),
        Rule(boxes, Encoding(background=(0, 0, 0))),
        Rule(boxes, Encoding(animated=True)),
        Rule(boxes, Encoding(max_frames=10)),
    ]
    digests = [rule.digest for rule in variants]
    assert len(set(digests)) == len(variants)
    assert Rule(boxes).digest == digests[0]  # and stable for equal settings
    assert Rule(boxes, prefix="avatars/").digest == digests[0]  # the prefix is where, not what


@pytest.mark.parametrize(
    ("key", "reason"),
    [("a.webp", None), ("b.GIF", None), ("c.tif", None), ("d.TIFF", None), ("e.heic", None), ("f.HEIF", None),
     ("g.avif", None), ("h.bmp", "not a .jpg/.jpeg/.png/.webp/.gif/.tif/.tiff/.heic/.heif/.avif key")],
)  # fmt: skip
def test_more_source_formats_are_taken_when_enabled(key, reason):
    assert skip_reason(ObjectRef("src", key, size=10), ALL) == reason
    if reason is None:
        assert skip_reason(ObjectRef("src", key, size=10), DEFAULT) == "not a .jpg/.jpeg/.png key"


def test_cover_boxes_have_a_prefix_of_their_own():
    assert destination_key("a.jpg", Box(150, 150, "cover")) == "150x150-cover/a.jpg"
    assert str(Box(150, 150, "cover")) == "150x150:cover"


def test_every_format_gets_its_key_in_the_order_written():
    rule = Rule((Box(64, 64), Box(150, 150, "cover")), Encoding(formats=("avif", "webp", "jpeg")))
    assert [key for _, key in expected_keys("a.jpg", rule, DEFAULT)] == [
        "64x64/a.jpg.avif", "64x64/a.jpg.webp", "64x64/a.jpg",
        "150x150-cover/a.jpg.avif", "150x150-cover/a.jpg.webp", "150x150-cover/a.jpg",
    ]  # fmt: skip
