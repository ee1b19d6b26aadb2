from __future__ import annotations

from urllib.parse import unquote

import pytest

from create_thumbnail.config import Box, Encoding
from create_thumbnail.errors import DestinationKeyTooLong
from create_thumbnail.events import ObjectRef
from create_thumbnail.naming import destination_key, encoding_digest, skip_reason, thumbnail_metadata


@pytest.mark.parametrize("key", ["a.jpg", "b/c.JPG", "d.jpeg", "e.JPEG", "f.png", "g/h.PnG"])
def test_jpeg_and_png_keys_in_any_case_are_taken(key):
    assert skip_reason(ObjectRef("src", key, size=10)) is None


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
    assert reason in skip_reason(ObjectRef("src", key, size=size))


def test_destination_key_is_box_prefix_plus_source_key():
    assert destination_key("photos/Summer 2026/café.JPG", Box(256, 128)) == "256x128/photos/Summer 2026/café.JPG"


def test_destination_key_over_s3_limit_is_refused():
    long_key = "k/" + "é" * 510  # 1022 bytes: fits as a source, not with the prefix
    with pytest.raises(DestinationKeyTooLong, match="1024-byte limit"):
        destination_key(long_key, Box(256, 256))


def test_metadata_is_ascii_and_names_the_source():
    ref = ObjectRef("src-bucket", "photos/café + friends.jpg", etag='"abc123"', version_id="v1", size=3)
    metadata = thumbnail_metadata(ref, Box(256, 256), Encoding())
    assert all(value.isascii() for value in metadata.values())
    assert unquote(metadata["source-key"]) == ref.key
    assert metadata == {
        "source-bucket": "src-bucket",
        "source-key": metadata["source-key"],
        "source-etag": "abc123",
        "source-size": "3",
        "source-version-id": "v1",
        "thumbnail-box": "256x256",
        "thumbnail-encoding": encoding_digest(Encoding()),
    }


def test_encoding_digest_changes_with_every_encoding_setting():
    """The duplicate check compares it: a changed setting must make thumbnails again."""
    variants = [
        Encoding(),
        Encoding(format="webp"),
        Encoding(jpeg_quality=84),
        Encoding(webp_quality=79),
        Encoding(avif_quality=59),
        Encoding(png_compress_level=1),
        Encoding(background=(0, 0, 0)),
    ]
    digests = [encoding_digest(encoding) for encoding in variants]
    assert len(set(digests)) == len(variants)
    assert encoding_digest(Encoding()) == digests[0]  # and stable for equal settings
