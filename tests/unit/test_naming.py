"""Which keys are taken, what their thumbnails are called, and that no two sources ever share a
name: the property test generates keys that end in other keys' derived names."""

from __future__ import annotations

import re
from dataclasses import fields
from urllib.parse import unquote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from create_thumbnail.config import Box, Encoding, Reading, Rule
from create_thumbnail.errors import DestinationKeyTooLong
from create_thumbnail.imaging.formats import FORMATS
from create_thumbnail.manifest import manifest_key
from create_thumbnail.naming import (
    KNOWN_SUFFIXES,
    SourceIdentity,
    destination_key,
    expected_keys,
    owned_by,
    skip_reason,
    thumbnail_metadata,
)

DEFAULT = ("jpeg", "png")
ALL = ("jpeg", "png", "webp", "gif", "tiff", "heif", "avif")


@pytest.mark.parametrize("key", ["a.jpg", "b/c.JPG", "d.jpeg", "e.JPEG", "f.png", "g/h.PnG"])
def test_jpeg_and_png_keys_in_any_case_are_taken(key):
    assert skip_reason(key, DEFAULT) is None


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("photos/", "folder marker"),
        ("photos/x.jpg/", "folder marker"),
        ("notes.txt", "not a .jpg/.jpeg/.png key"),
        ("photo.jpg.exe", "not a .jpg/.jpeg/.png key"),
        ("jpg", "not a .jpg/.jpeg/.png key"),
    ],
)
def test_other_keys_are_skipped_with_a_reason(key, reason):
    assert reason in skip_reason(key, DEFAULT)


JPEG, PNG, WEBP = (FORMATS[name].extensions for name in ("JPEG", "PNG", "WEBP"))


def test_a_key_whose_extension_says_the_format_keeps_its_name():
    assert destination_key("photos/Summer 2026/café.JPG", Box(256, 128), JPEG) == "256x128/photos/Summer 2026/café.JPG"
    assert destination_key("photo.2026.jpeg", Box(64, 64), JPEG) == "64x64/photo.2026.jpeg"
    assert destination_key("a.jpg", Box(64, 64), WEBP) == "64x64/a.jpg.webp"
    assert destination_key("a.jpg", Box(64, 64), PNG) == "64x64/a.jpg.png"  # a PNG uploaded as .jpg


@pytest.mark.parametrize(
    ("first", "second", "extensions"),
    [(("a.png", JPEG), ("a.png.jpg", JPEG), JPEG),  # a PNG key holding JPEG bytes, and a JPEG
     (("x.jpg", WEBP), ("x.jpg.webp", WEBP), WEBP),  # THUMBNAIL_FORMAT=webp, and a WebP source
     (("a.gif", PNG), ("a.gif.png", PNG), PNG)],  # a still GIF made PNG, and a PNG
)  # fmt: skip
def test_a_key_that_ends_in_another_keys_derived_name_gets_a_name_of_its_own(first, second, extensions):
    names = {destination_key(key, Box(64, 64), ext) for key, ext in (first, second)}
    assert len(names) == 2
    assert destination_key(second[0], Box(64, 64), extensions) == f"64x64/{second[0]}{extensions[0]}"


# Any text, then one or more extensions in any case: the keys most likely to collide.
_suffix = st.sampled_from(KNOWN_SUFFIXES).flatmap(lambda s: st.sampled_from([s, s.upper(), s.title()]))
_stem = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=12)
_keys = st.builds(lambda stem, suffixes: stem + "".join(suffixes), _stem, st.lists(_suffix, min_size=1, max_size=3))
BOXES = (Box(64, 64), Box(64, 64, "cover"), Box(128, 64))


@settings(max_examples=400, deadline=None)
@given(st.lists(_keys, min_size=1, max_size=6, unique=True), st.data())
def test_names_are_one_to_one_over_key_box_and_format(keys, data):
    """Every (source key, box, output format) has a name of its own, and no name is a
    manifest's, for any set of keys: each key's derived names are added as keys too."""
    derived = [key + ext for key in keys for target in FORMATS.values() for ext in target.extensions]
    keys = sorted(set(keys) | set(data.draw(st.lists(st.sampled_from(derived), max_size=8))))
    names = {}
    for key in keys:
        for box in BOXES:
            for target in FORMATS.values():
                name = destination_key(key, box, target.extensions)
                assert name not in names, f"{name!r} for {(key, str(box), target.name)} and {names.get(name)}"
                names[name] = (key, str(box), target.name)
    manifests = {manifest_key(key) for key in keys}
    assert len(manifests) == len(keys) and manifests.isdisjoint(names)


def test_destination_key_over_s3_limit_is_refused():
    long_key = "k/" + "é" * 510  # 1022 bytes: fits as a source, not with the prefix
    with pytest.raises(DestinationKeyTooLong, match="1024-byte limit"):
        destination_key(long_key, Box(256, 256), JPEG)


def test_metadata_is_ascii_and_names_the_source():
    source = SourceIdentity("src-bucket", "photos/café + friends.jpg", '"abc123"', 3, "v1", "0.25,0.75")
    rule = Rule((Box(256, 256),))
    metadata = thumbnail_metadata(source, Box(256, 256), rule)
    assert all(value.isascii() for value in metadata.values())
    assert unquote(metadata["source-key"]) == source.key
    assert metadata == {
        "source-bucket": "src-bucket",
        "source-key": metadata["source-key"],
        "source-etag": "abc123",
        "source-size": "3",
        "source-version-id": "v1",
        "source-focal-point": "0.25,0.75",
        "thumbnail-box": "256x256",
        "thumbnail-rule": rule.digest,
    }
    assert owned_by(metadata, "src-bucket", source.key)
    assert not owned_by(metadata, "other-bucket", source.key)
    assert not owned_by(metadata, "src-bucket", "photos/café + friends.jpg.jpg")


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
        Rule(boxes, reading=Reading(page=2)),
    ]
    digests = [rule.digest for rule in variants]
    assert len(set(digests)) == len(variants)
    assert Rule(boxes).digest == digests[0]  # and stable for equal settings
    assert Rule(boxes, prefix="avatars/").digest == digests[0]  # the prefix is where, not what
    # Every Encoding field is in the digest or named here as leaving the bytes alone, so a new
    # one is placed on purpose: left out by mistake, changing it would never re-render.
    leave_the_bytes_alone: set[str] = set()
    described = set(re.findall(r"(\w+)=", Rule(boxes).description))
    assert {f.name for f in fields(Encoding)} - leave_the_bytes_alone <= described
    # Reading's fields are described where they differ from the default, every one of them
    changed = Reading(**{f.name: 2 for f in fields(Reading)})
    assert {f.name for f in fields(Reading)} <= set(re.findall(r"(\w+)=", Rule(boxes, reading=changed).description))


@pytest.mark.parametrize(
    ("key", "reason"),
    [("a.webp", None), ("b.GIF", None), ("c.tif", None), ("d.TIFF", None), ("e.heic", None), ("f.HEIF", None),
     ("g.avif", None), ("h.bmp", "not a .jpg/.jpeg/.png/.webp/.gif/.tif/.tiff/.heic/.heif/.avif key")],
)  # fmt: skip
def test_more_source_formats_are_taken_when_enabled(key, reason):
    assert skip_reason(key, ALL) == reason
    if reason is None:
        assert skip_reason(key, DEFAULT) == "not a .jpg/.jpeg/.png key"


def test_cover_boxes_have_a_prefix_of_their_own():
    assert destination_key("a.jpg", Box(150, 150, "cover"), JPEG) == "150x150-cover/a.jpg"
    assert str(Box(150, 150, "cover")) == "150x150:cover"


def test_every_format_gets_its_key_in_the_order_written():
    rule = Rule((Box(64, 64), Box(150, 150, "cover")), Encoding(formats=("avif", "webp", "jpeg")))
    assert [key for _, key in expected_keys("a.jpg", rule, DEFAULT)] == [
        "64x64/a.jpg.avif", "64x64/a.jpg.webp", "64x64/a.jpg",
        "150x150-cover/a.jpg.avif", "150x150-cover/a.jpg.webp", "150x150-cover/a.jpg",
    ]  # fmt: skip
