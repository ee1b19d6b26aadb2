"""A DEADLINE_MARGIN_MS that leaves no time for a record is refused by the invocation itself,
naming the variable and the timeout. Lambda has no timeout variable, so Settings.from_env cannot
see the mistake: only the handler, from the context's time left, can."""

from __future__ import annotations

import pytest
from local_run.inputs.grid import source_bytes
from local_run.inputs.s3_events import put_event
from local_run.shared import LocalContext, environment

from create_thumbnail.errors import ConfigError
from tests.integration.uploads import keys, upload

JPEG = source_bytes("RGB", (400, 300), "JPEG")


def test_a_margin_not_under_the_timeout_fails_the_invocation_before_any_record(s3, buckets, handler, function_log):
    from create_thumbnail import app

    event = put_event(upload(s3, buckets.source, "a.jpg", JPEG))
    with environment({"DEADLINE_MARGIN_MS": "10000"}):
        app.wiring.cache_clear()
        with pytest.raises(ConfigError, match=r"DEADLINE_MARGIN_MS: 10,000 ms is not under the function's timeout \(about 10 s"):
            handler(event, LocalContext(timeout_s=10))
        assert keys(s3, buckets.resized) == []
        assert [line["message"] for line in function_log()] == ["invocation rejected"]

        reply = handler(event, LocalContext(timeout_s=15))  # the timeout raised: records start again
    assert reply["created"] == 1
