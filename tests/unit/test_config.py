from __future__ import annotations

import pytest

from create_thumbnail.config import (
    DEFAULT_DEADLINE_MARGIN_MS,
    DEFAULT_MAX_SOURCE_BYTES,
    DEFAULT_MAX_SOURCE_PIXELS,
    Box,
    Encoding,
    Settings,
)
from create_thumbnail.errors import ConfigError


def test_minimal_environment_gets_documented_defaults():
    settings = Settings.from_env({"DESTINATION_BUCKET": "my-resized"})
    assert settings.destination_bucket == "my-resized"
    assert settings.sizes == (Box(256, 256),)
    assert settings.max_source_bytes == DEFAULT_MAX_SOURCE_BYTES
    assert settings.max_source_pixels == DEFAULT_MAX_SOURCE_PIXELS
    assert settings.deadline_margin_ms == DEFAULT_DEADLINE_MARGIN_MS == 10_000


def test_sizes_are_parsed_deduplicated_and_sorted():
    settings = Settings.from_env(
        {"DESTINATION_BUCKET": "b-resized", "THUMBNAIL_SIZES": " 1024x768, 256X256,256x256 "}
    )
    assert settings.sizes == (Box(256, 256), Box(1024, 768))


def test_settings_are_frozen():
    settings = Settings.from_env({"DESTINATION_BUCKET": "my-resized"})
    with pytest.raises(AttributeError):
        settings.destination_bucket = "other"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "DESTINATION_BUCKET is not set"),
        ({"DESTINATION_BUCKET": "  "}, "DESTINATION_BUCKET is not set"),
        ({"DESTINATION_BUCKET": "My_Bucket"}, "DESTINATION_BUCKET: 'My_Bucket' is not a valid S3 bucket name"),
        ({"DESTINATION_BUCKET": "a..b"}, "not a valid S3 bucket name"),
        ({"DESTINATION_BUCKET": "ok-bucket", "THUMBNAIL_SIZES": "256xabc"}, "THUMBNAIL_SIZES: '256xabc' is not WIDTHxHEIGHT"),
        ({"DESTINATION_BUCKET": "ok-bucket", "THUMBNAIL_SIZES": "256x256,"}, "THUMBNAIL_SIZES: '' is not WIDTHxHEIGHT"),
        ({"DESTINATION_BUCKET": "ok-bucket", "THUMBNAIL_SIZES": "0x256"}, "THUMBNAIL_SIZES: '0x256' needs sides from 1 to 4096"),
        ({"DESTINATION_BUCKET": "ok-bucket", "THUMBNAIL_SIZES": "9000x10"}, "needs sides from 1 to 4096"),
        ({"DESTINATION_BUCKET": "ok-bucket", "MAX_SOURCE_BYTES": "lots"}, "MAX_SOURCE_BYTES: 'lots' is not a whole number"),
        ({"DESTINATION_BUCKET": "ok-bucket", "MAX_SOURCE_PIXELS": "-5"}, "MAX_SOURCE_PIXELS: '-5' must be 1 or more"),
        ({"DESTINATION_BUCKET": "ok-bucket", "DEADLINE_MARGIN_MS": "10s"}, "DEADLINE_MARGIN_MS: '10s' is not a whole number"),
        ({"DESTINATION_BUCKET": "ok-bucket", "DEADLINE_MARGIN_MS": "0"}, "DEADLINE_MARGIN_MS: '0' must be 1 or more"),
    ],
)
def test_bad_setting_names_the_variable(env, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        Settings.from_env(env)


def test_limits_accept_underscored_numbers():
    settings = Settings.from_env({"DESTINATION_BUCKET": "ok-bucket", "MAX_SOURCE_PIXELS": "50_000_000"})
    assert settings.max_source_pixels == 50_000_000


def test_encoding_defaults_and_overrides():
    assert Settings.from_env({"DESTINATION_BUCKET": "ok-bucket"}).encoding == Encoding()
    encoding = Settings.from_env(
        {
            "DESTINATION_BUCKET": "ok-bucket",
            "THUMBNAIL_FORMAT": "WebP",
            "JPEG_QUALITY": "70",
            "WEBP_QUALITY": "90",
            "AVIF_QUALITY": "50",
            "PNG_COMPRESS_LEVEL": "1",
            "THUMBNAIL_BACKGROUND": "#102030",
        }
    ).encoding
    assert encoding == Encoding("webp", 70, 90, 50, 1, (16, 32, 48))


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("THUMBNAIL_FORMAT", "gif", "THUMBNAIL_FORMAT: 'gif' is not one of source, jpeg, png, webp, avif"),
        ("JPEG_QUALITY", "100", "JPEG_QUALITY: '100' must be from 1 to 95"),
        ("WEBP_QUALITY", "0", "WEBP_QUALITY: '0' must be from 1 to 100"),
        ("AVIF_QUALITY", "high", "AVIF_QUALITY: 'high' is not a whole number"),
        ("PNG_COMPRESS_LEVEL", "10", "PNG_COMPRESS_LEVEL: '10' must be from 0 to 9"),
        ("THUMBNAIL_BACKGROUND", "white", "THUMBNAIL_BACKGROUND: 'white' is not a colour like #ffffff"),
    ],
)
def test_bad_encoding_setting_names_the_variable(name, value, message):
    with pytest.raises(ConfigError, match=message):
        Settings.from_env({"DESTINATION_BUCKET": "ok-bucket", name: value})
