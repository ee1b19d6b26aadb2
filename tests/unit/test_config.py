from __future__ import annotations

import pytest

from create_thumbnail.config import (
    DEFAULT_MAX_SOURCE_BYTES,
    DEFAULT_MAX_SOURCE_PIXELS,
    Box,
    Settings,
)
from create_thumbnail.errors import ConfigError


def test_minimal_environment_gets_documented_defaults():
    settings = Settings.from_env({"DESTINATION_BUCKET": "my-resized"})
    assert settings.destination_bucket == "my-resized"
    assert settings.sizes == (Box(256, 256),)
    assert settings.max_source_bytes == DEFAULT_MAX_SOURCE_BYTES
    assert settings.max_source_pixels == DEFAULT_MAX_SOURCE_PIXELS


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
        ({"DESTINATION_BUCKET": "ok-bucket", "MAX_SOURCE_PIXELS": "-5"}, "MAX_SOURCE_PIXELS: '-5' must be greater than zero"),
    ],
)
def test_bad_setting_names_the_variable(env, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        Settings.from_env(env)


def test_limits_accept_underscored_numbers():
    settings = Settings.from_env({"DESTINATION_BUCKET": "ok-bucket", "MAX_SOURCE_PIXELS": "50_000_000"})
    assert settings.max_source_pixels == 50_000_000
