from __future__ import annotations

import importlib.util
import json
import re
from dataclasses import dataclass

import pytest

from create_thumbnail.config import (
    DEFAULT_DEADLINE_MARGIN_MS,
    DEFAULT_MAX_SOURCE_BYTES,
    DEFAULT_MAX_SOURCE_PIXELS,
    MAX_PDF_PAGE,
    Box,
    Encoding,
    Reading,
    Rule,
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


def test_source_key_prefix_is_taken_as_written_and_refused_only_where_no_key_could_match():
    assert Settings.from_env({"DESTINATION_BUCKET": "my-resized"}).source_key_prefix == ""
    assert Settings.from_env({"DESTINATION_BUCKET": "my-resized", "SOURCE_KEY_PREFIX": " photos/ "}).source_key_prefix == " photos/ "
    with pytest.raises(ConfigError, match="^SOURCE_KEY_PREFIX: 1,025 bytes"):
        Settings.from_env({"DESTINATION_BUCKET": "my-resized", "SOURCE_KEY_PREFIX": "é" * 512 + "x"})
    with pytest.raises(ConfigError, match=re.escape("SOURCE_KEY_PREFIX: 'photos/\\n' holds a control character")):
        Settings.from_env({"DESTINATION_BUCKET": "my-resized", "SOURCE_KEY_PREFIX": "photos/\n"})


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
        ({"DESTINATION_BUCKET": "ok-bucket", "THUMBNAIL_SIZES": "256xabc"}, "THUMBNAIL_SIZES: '256xabc' is not WIDTHxHEIGHT or WIDTHxHEIGHT:cover"),
        ({"DESTINATION_BUCKET": "ok-bucket", "THUMBNAIL_SIZES": "256x256,"}, "THUMBNAIL_SIZES: '' is not WIDTHxHEIGHT"),
        ({"DESTINATION_BUCKET": "ok-bucket", "THUMBNAIL_SIZES": "0x256"}, "THUMBNAIL_SIZES: '0x256' needs sides from 1 to 4096"),
        ({"DESTINATION_BUCKET": "ok-bucket", "THUMBNAIL_SIZES": "9000x10"}, "needs sides from 1 to 4096"),
        ({"DESTINATION_BUCKET": "ok-bucket", "MAX_SOURCE_BYTES": "lots"}, "MAX_SOURCE_BYTES: 'lots' is not a whole number"),
        ({"DESTINATION_BUCKET": "ok-bucket", "MAX_SOURCE_PIXELS": "-5"}, "MAX_SOURCE_PIXELS: '-5' must be from 1 to 4294836225"),
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
    assert Settings.from_env({"DESTINATION_BUCKET": "ok-bucket", "JPEG_QUALITY": " 7_0 "}).encoding.jpeg_quality == 70


@pytest.mark.parametrize("value", ["__8_5", "8__5", "85_", "_85", "+85", "٨٥", "８５", "8\u0665"])
def test_a_number_is_ascii_digits_grouped_as_python_writes_them(value):
    """int() takes all of these (underscores anywhere once they are stripped, any script's digits):
    85 or 3, from a typo or a pasted value."""
    with pytest.raises(ConfigError, match=re.escape(f"JPEG_QUALITY: {value!r} is not a whole number")):
        Settings.from_env({"DESTINATION_BUCKET": "ok-bucket", "JPEG_QUALITY": value})


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [("THUMBNAIL_SIZES", "٢٥٦x٢٥٦", "THUMBNAIL_SIZES: '٢٥٦x٢٥٦' is not WIDTHxHEIGHT"),
     ("EVENT_BUS_NAME", "arn:aws:events:us-east-1:١٢٣٤٥٦٧٨٩٠١٢:event-bus/b", "EVENT_BUS_NAME: .* is not an event bus name or ARN")],
)  # fmt: skip
def test_digits_in_sizes_and_arns_are_ascii_too(name, value, message):
    with pytest.raises(ConfigError, match=message):
        Settings.from_env({"DESTINATION_BUCKET": "ok-bucket", name: value})


@pytest.mark.parametrize(
    ("name", "largest"),
    [("MAX_SOURCE_BYTES", 10_240 * 1024 * 1024),  # Lambda's largest memory: the source is read whole
     ("MAX_SOURCE_PIXELS", 65_535 * 65_535)],  # budget.MAX_SIDE squared: no larger image passes
)  # fmt: skip
def test_source_limits_stop_where_no_function_could_reach(name, largest):
    env = {"DESTINATION_BUCKET": "ok-bucket"}
    assert getattr(Settings.from_env({**env, name: str(largest)}), name.lower()) == largest
    with pytest.raises(ConfigError, match=f"{name}: '{largest + 1}' must be from 1 to {largest}"):
        Settings.from_env({**env, name: str(largest + 1)})


def test_the_pixel_limit_is_the_largest_image_budget_lets_through():
    """config cannot import budget (budget imports config): the bound is written out, and kept here."""
    from create_thumbnail import config
    from create_thumbnail.imaging import budget

    assert config.MAX_SOURCE_PIXELS_LIMIT == budget.MAX_SIDE**2
    assert config.MAX_SOURCE_BYTES_LIMIT == config.MAX_MEMORY_MB * 2**20


def test_a_margin_that_leaves_no_time_for_a_record_names_the_variable_and_the_timeout():
    """Lambda gives no timeout variable: the handler passes the time left as an invocation began."""
    settings = Settings.from_env({"DESTINATION_BUCKET": "ok-bucket", "DEADLINE_MARGIN_MS": "60_000"})
    for began_with in (59_998, 60_000, 9_000):
        with pytest.raises(ConfigError, match=r"DEADLINE_MARGIN_MS: 60,000 ms is not under the function's timeout \(about"):
            settings.check_against_timeout(began_with)
    settings.check_against_timeout(60_001)
    Settings.from_env({"DESTINATION_BUCKET": "ok-bucket"}).check_against_timeout(59_998)  # 10 s of 60


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
    assert encoding == Encoding(("webp",), 70, 90, 50, 1, (16, 32, 48))


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("THUMBNAIL_FORMAT", "gif", "THUMBNAIL_FORMAT: 'gif' is not one of source, jpeg, png, webp, avif"),
        ("THUMBNAIL_FORMAT", "webp,,jpeg", "THUMBNAIL_FORMAT: '' is not one of"),
        ("THUMBNAIL_GRAVITY", "north", "THUMBNAIL_GRAVITY: 'north' is not one of attention, centre"),
        ("SOURCE_FORMATS", "jpeg,bmp", "SOURCE_FORMATS: 'bmp' is not one of jpeg, png, webp, gif, tiff, heif, avif"),
        ("THUMBNAIL_ANIMATED", "maybe", "THUMBNAIL_ANIMATED: 'maybe' is not true or false"),
        ("MAX_FRAMES", "0", "MAX_FRAMES: '0' must be from 1 to 10000"),
        ("THUMBNAIL_SIZES", "150x150:fill", "THUMBNAIL_SIZES: '150x150:fill': the fit after ':' may only be 'cover'"),
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


def test_formats_gravity_sources_and_animation():
    settings = Settings.from_env({
        "DESTINATION_BUCKET": "ok-bucket", "THUMBNAIL_SIZES": "256x256, 150x150:cover",
        "THUMBNAIL_FORMAT": "AVIF, webp,jpeg,webp", "THUMBNAIL_GRAVITY": "center",
        "SOURCE_FORMATS": "jpeg,png,heif", "THUMBNAIL_ANIMATED": "true", "MAX_FRAMES": "20",
    })  # fmt: skip
    assert settings.sizes == (Box(150, 150, "cover"), Box(256, 256))
    assert settings.encoding.formats == ("avif", "webp", "jpeg")
    assert (settings.gravity, settings.source_formats) == ("centre", ("jpeg", "png", "heif"))
    assert (settings.encoding.animated, settings.encoding.max_frames) == (True, 20)
    defaults = Settings.from_env({"DESTINATION_BUCKET": "ok-bucket"})
    assert (defaults.gravity, defaults.source_formats, defaults.encoding.formats) == ("attention", ("jpeg", "png"), ("source",))


RULES = {
    "avatars/": {"sizes": "64x64:cover,256x256:cover", "formats": "webp,jpeg"},
    "avatars/staff/": {"gravity": "centre"},
    "products/": {"sizes": "1024x1024"},
}


def test_the_longest_matching_prefix_rules_and_unset_fields_take_the_plain_settings():
    settings = Settings.from_env({"DESTINATION_BUCKET": "ok-bucket", "THUMBNAIL_RULES": json.dumps(RULES)})
    plain = settings.rule_for("photos/a.jpg")
    assert plain == settings.default_rule and plain.prefix is None
    avatars = settings.rule_for("avatars/ann.jpg")
    assert avatars.sizes == (Box(64, 64, "cover"), Box(256, 256, "cover"))
    assert (avatars.encoding.formats, avatars.gravity) == (("webp", "jpeg"), "attention")
    staff = settings.rule_for("avatars/staff/bob.jpg")  # its own gravity, the plain sizes
    assert (staff.prefix, staff.sizes, staff.gravity) == ("avatars/staff/", (Box(256, 256),), "centre")
    assert settings.rule_for("products/x.png").sizes == (Box(1024, 1024),)
    assert len({rule.digest for rule in (plain, avatars, staff, settings.rule_for("products/x.png"))}) == 4


def test_rules_can_come_from_a_file_in_the_artifact(tmp_path):
    (tmp_path / "rules.json").write_text(json.dumps(RULES))
    env = {"DESTINATION_BUCKET": "ok-bucket", "THUMBNAIL_RULES": "rules.json", "LAMBDA_TASK_ROOT": str(tmp_path)}
    assert Settings.from_env(env).rule_for("products/a.jpg").sizes == (Box(1024, 1024),)


@pytest.mark.parametrize(
    ("rules", "message"),
    [("{nope", "THUMBNAIL_RULES: not JSON"), ("[]", "expected an object of key prefix -> rule"),
     ('{"": {}}', "a rule's key prefix may not be empty"),
     ('{"a/": {"size": "64x64"}}', "THUMBNAIL_RULES\\['a/'\\]: expected an object with only formats, gravity, page, poster, sizes"),
     ('{"a/": {"sizes": "64xx"}}', "THUMBNAIL_RULES\\['a/'\\].sizes: '64xx' is not WIDTHxHEIGHT"),
     ('{"a/": {"formats": "bmp"}}', "THUMBNAIL_RULES\\['a/'\\].formats: 'bmp' is not one of"),
     ('{"a/": {"sizes": 64}}', "every value is a string"), ("missing.json", "THUMBNAIL_RULES: cannot read"),
     ('{"a/": {"sizes": "64x64"}, "b/": {}, "a/": {"sizes": "32x32"}}', "THUMBNAIL_RULES: the prefix 'a/' is given twice"),
     ('{"a/": {}, "a\\u002f": {}}', "THUMBNAIL_RULES: the prefix 'a/' is given twice"),
     ('{"a/": {"sizes": "64x64", "sizes": "32x32"}}', "THUMBNAIL_RULES\\['a/'\\]: the field 'sizes' is given twice")],
)  # fmt: skip
def test_a_bad_rule_names_the_variable_and_the_prefix(rules, message):
    with pytest.raises(ConfigError, match=message):
        Settings.from_env({"DESTINATION_BUCKET": "ok-bucket", "THUMBNAIL_RULES": rules, "LAMBDA_TASK_ROOT": "/nonexistent"})


def test_a_pdfs_page_is_a_plain_setting_and_a_rule_field_counted_from_one():
    plain = Settings.from_env({"DESTINATION_BUCKET": "ok-bucket"})
    assert plain.default_rule.reading == Reading(page=1)
    settings = Settings.from_env({
        "DESTINATION_BUCKET": "ok-bucket", "PDF_PAGE": " 3 ",
        "THUMBNAIL_RULES": json.dumps({"reports/": {"page": "2"}, "reports/covers/": {"page": "1"},
                                       "scans/": {"sizes": "64x64"}, "blank/": {"page": " "}}),
    })  # fmt: skip
    assert settings.default_rule.reading.page == 3
    assert settings.rule_for("reports/q1.pdf").reading.page == 2
    assert settings.rule_for("reports/covers/q1.pdf").reading.page == 1
    assert settings.rule_for("scans/a.pdf").reading.page == 3  # unset: the plain setting stands in
    assert settings.rule_for("blank/a.pdf").reading.page == 3  # blank, as a blank variable
    largest = Settings.from_env({"DESTINATION_BUCKET": "ok-bucket", "PDF_PAGE": "8_388_607"})
    assert largest.default_rule.reading.page == MAX_PDF_PAGE == 8_388_607


@pytest.mark.parametrize("value", ["0", "-1", "two", "2.0", "II", "٢", "8388608", "9" * 5000])
def test_a_page_that_no_pdf_has_names_the_variable_or_the_rule(value):
    with pytest.raises(ConfigError, match=r"^PDF_PAGE: .*(must be from 1 to 8388607|is not a whole number)"):
        Settings.from_env({"DESTINATION_BUCKET": "ok-bucket", "PDF_PAGE": value})
    rules = json.dumps({"reports/": {"page": value}})
    with pytest.raises(ConfigError, match=r"^THUMBNAIL_RULES\['reports/'\]\.page: .*(must be from 1|is not a whole number)"):
        Settings.from_env({"DESTINATION_BUCKET": "ok-bucket", "THUMBNAIL_RULES": rules})


def test_a_page_given_as_a_json_number_is_refused_as_every_other_field_is():
    with pytest.raises(ConfigError, match="every value is a string"):
        Settings.from_env({"DESTINATION_BUCKET": "ok-bucket", "THUMBNAIL_RULES": '{"reports/": {"page": 2}}'})


@dataclass(frozen=True, slots=True)
class _EncodingWithALogSwitch(Encoding):
    """Encoding as it would be with a field that does not change a thumbnail's bytes."""

    log_timings: bool = True


def test_a_field_that_does_not_change_the_bytes_leaves_the_digest_alone():
    """Else adding one marks every thumbnail stale: the next events and backfill --stale re-render
    them all for identical bytes."""
    boxes = (Box(256, 256),)
    assert Rule(boxes, _EncodingWithALogSwitch()).digest == Rule(boxes).digest
    assert Rule(boxes, _EncodingWithALogSwitch(log_timings=False)).digest == Rule(boxes).digest
    changed = Rule(boxes, _EncodingWithALogSwitch(jpeg_quality=70))
    assert changed.digest == Rule(boxes, Encoding(jpeg_quality=70)).digest != Rule(boxes).digest


def test_todays_settings_keep_the_digest_their_thumbnails_record():
    """Digests recorded by the code before the description (a repr of the dataclasses, 55bd22b):
    the same settings must give the same digest, or every deployed thumbnail reads as stale."""
    assert Rule((Box(256, 256),)).digest == "66390dfab59e1379"
    every_setting = Rule(
        (Box(64, 64, "cover"), Box(256, 256)),
        Encoding(("avif", "webp", "jpeg"), 70, 80, 50, 9, (16, 32, 48), animated=True, max_frames=20),
        gravity="centre", prefix="avatars/",
    )  # fmt: skip
    assert every_setting.digest == "e754b05c46a61dba"
    # the first page, set as a plain setting or by a rule, is what they rendered
    assert Rule((Box(256, 256),), reading=Reading(page=1)).digest == "66390dfab59e1379"
    assert Settings.from_env({"DESTINATION_BUCKET": "ok-bucket", "PDF_PAGE": "1"}).default_rule.digest == "66390dfab59e1379"
    ruled = Settings.from_env({"DESTINATION_BUCKET": "ok-bucket", "THUMBNAIL_RULES": '{"a/": {"page": "1"}}'})
    assert ruled.rule_for("a/x.pdf").digest == "66390dfab59e1379"


def test_another_page_changes_the_digest_and_each_page_its_own():
    """Page 2 makes other bytes than page 1: its thumbnails must not pass for up to date."""
    digests = {Rule((Box(256, 256),), reading=Reading(page=page)).digest for page in (1, 2, 3, MAX_PDF_PAGE)}
    assert len(digests) == 4
    assert "Reading(page=2)" in Rule((Box(256, 256),), reading=Reading(page=2)).description


# ---- what serving the resized bucket needs: Cache-Control, the delivery base URL ------------------


def test_cache_control_defaults_let_a_thumbnail_revalidate_soon_and_the_manifest_always():
    settings = Settings.from_env({"DESTINATION_BUCKET": "b-resized"})
    assert settings.thumbnail_cache_control == "public, max-age=300"
    assert settings.manifest_cache_control == "no-cache"
    assert settings.delivery_base_url is None


def test_cache_control_is_taken_as_given_and_blank_means_the_default():
    settings = Settings.from_env({
        "DESTINATION_BUCKET": "b-resized", "THUMBNAIL_CACHE_CONTROL": " public, max-age=31536000, immutable ",
        "MANIFEST_CACHE_CONTROL": "   ",
    })  # fmt: skip
    assert settings.thumbnail_cache_control == "public, max-age=31536000, immutable"
    assert settings.manifest_cache_control == "no-cache"


@pytest.mark.parametrize("name", ["THUMBNAIL_CACHE_CONTROL", "MANIFEST_CACHE_CONTROL"])
@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("max-age=300\r\nX-Injected: 1", r"holds '\\r': an HTTP header value is printable ASCII"),
        ("max-age=300\n", None),  # a trailing newline is whitespace: stripped, not refused
        ("max-age=\t300", r"holds '\\t'"),
        ("max-age=300\x00", r"holds '\\x00'"),
        ("max-âge=300", "holds 'â'"),
        ("x" * 257, "257 characters, over the 256 a Cache-Control value may have"),
    ],
)
def test_a_cache_control_that_cannot_be_a_header_names_the_variable(name, value, message):
    env = {"DESTINATION_BUCKET": "b-resized", name: value}
    if message is None:
        assert getattr(Settings.from_env(env), name.lower()) == value.strip()
        return
    with pytest.raises(ConfigError, match=f"^{name}: .*{message}"):
        Settings.from_env(env)


def test_cache_control_of_exactly_the_limit_is_taken():
    settings = Settings.from_env({"DESTINATION_BUCKET": "b-resized", "THUMBNAIL_CACHE_CONTROL": "x" * 256})
    assert settings.thumbnail_cache_control == "x" * 256


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://d111111abcdef8.cloudfront.net", "https://d111111abcdef8.cloudfront.net"),
        ("https://d111111abcdef8.cloudfront.net/", "https://d111111abcdef8.cloudfront.net"),
        ("HTTPS://cdn.example.com:8443/thumbs//", "https://cdn.example.com:8443/thumbs"),
        ("http://127.0.0.1:5000/demo-resized", "http://127.0.0.1:5000/demo-resized"),
        ("http://localhost/b/", "http://localhost/b"),
        ("http://[::1]:5000/b", "http://[::1]:5000/b"),
        ("", None),
        ("  ", None),
    ],
)
def test_the_delivery_base_url_is_normalised(value, expected):
    settings = Settings.from_env({"DESTINATION_BUCKET": "b-resized", "DELIVERY_BASE_URL": value})
    assert settings.delivery_base_url == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("http://d111111abcdef8.cloudfront.net", "must be https://; http:// is taken only for a loopback host (127.0.0.1, localhost, ::1)"),
        ("http://10.0.0.1:5000/b", "must be https://; http:// is taken only for a loopback host"),
        ("ftp://example.com", "is not an https:// URL with a host"),
        ("d111111abcdef8.cloudfront.net", "is not an https:// URL with a host"),
        ("https:///thumbs", "is not an https:// URL with a host"),
        ("https://cdn.example.com/?v=1", "has a query or fragment"),
        ("https://cdn.example.com/#top", "has a query or fragment"),
        ("https://cdn.example.com:99999", "is not a URL"),
        ("https://cdn.example.com/my thumbs", "is not a URL: printable ASCII without spaces"),
        ("https://user:secret@cdn.example.com", "holds credentials"),
    ],
)
def test_a_bad_delivery_base_url_names_the_variable(value, message):
    with pytest.raises(ConfigError, match=f"^DELIVERY_BASE_URL: .*{re.escape(message)}"):
        Settings.from_env({"DESTINATION_BUCKET": "b-resized", "DELIVERY_BASE_URL": value})


def test_serving_settings_leave_the_rule_digest_alone():
    """Cache-Control and the base URL change no thumbnail's bytes: changing them must not mark
    every thumbnail stale (a re-render of everything for identical bytes)."""
    plain = Settings.from_env({"DESTINATION_BUCKET": "b-resized"})
    served = Settings.from_env({
        "DESTINATION_BUCKET": "b-resized", "THUMBNAIL_CACHE_CONTROL": "public, max-age=86400",
        "MANIFEST_CACHE_CONTROL": "max-age=10", "DELIVERY_BASE_URL": "https://cdn.example.com",
    })  # fmt: skip
    assert served.default_rule.digest == plain.default_rule.digest == "66390dfab59e1379"


@pytest.mark.parametrize(
    "setting, module, message",
    [("video", "av", "SOURCE_FORMATS: video needs PyAV.*VideoDecoderLayer"),
     ("jxl", "pillow_jxl", "SOURCE_FORMATS: jxl needs pillow-jxl-plugin.*JxlDecoderLayer")],
)
def test_a_format_without_its_decoder_fails_the_first_invocation_naming_the_layer(
    monkeypatch, setting: str, module: str, message: str
) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == module else real(name, *a))
    with pytest.raises(ConfigError, match=message):
        Settings.from_env({"DESTINATION_BUCKET": "ok-bucket", "SOURCE_FORMATS": f"jpeg,{setting}"})
    Settings.from_env({"DESTINATION_BUCKET": "ok-bucket", "SOURCE_FORMATS": "jpeg,pdf"})  # no layer needed
