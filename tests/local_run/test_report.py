"""The emulator's output sorted into the function's log and Lambda's REPORT figures. The lines
are the emulator's own (aws-lambda-rie from aws-sam-cli 1.170.0), recorded on this project."""

from __future__ import annotations

from local_run.runtime.report import Report, split_block

COLD = """\
START RequestId: 8b92923e-1a7c-42f4-9973-8b5b641f7532 Version: $LATEST
23 Nov 2026 15:59:19,201 [INFO] (rapid) INIT START(type: on-demand, phase: init)
23 Nov 2026 15:59:19,201 [INFO] (rapid) Starting runtime without AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN , Expected?: false
23 Nov 2026 15:59:19,565 [INFO] (rapid) INIT RTDONE(status: success)
23 Nov 2026 15:59:19,565 [INFO] (rapid) INIT REPORT(durationMs: 364.409000)
23 Nov 2026 15:59:19,566 [INFO] (rapid) INVOKE START(requestId: 8b92923e-1a7c-42f4-9973-8b5b641f7532)
{"level":"INFO","message":"event done"}
23 Nov 2026 15:59:19,568 [INFO] (rapid) INVOKE RTDONE(status: success, produced bytes: 0, duration: 2.815000ms)
END RequestId: 8b92923e-1a7c-42f4-9973-8b5b641f7532
REPORT RequestId: 8b92923e-1a7c-42f4-9973-8b5b641f7532\tInit Duration: 0.17 ms\tDuration: 367.48 ms\tBilled Duration: 368 ms\tMemory Size: 1024 MB\tMax Memory Used: 1024 MB\t
""".splitlines()

WARM = """\
START RequestId: 90da1d6e-f193-4354-aaa9-4d214e7e46e5 Version: $LATEST
23 Nov 2026 15:59:19,577 [INFO] (rapid) INVOKE START(requestId: 90da1d6e-f193-4354-aaa9-4d214e7e46e5)
[ERROR] ConfigError: DESTINATION_BUCKET is not set
23 Nov 2026 15:59:19,579 [INFO] (rapid) INVOKE RTDONE(status: success, produced bytes: 0, duration: 2.205000ms)
END RequestId: 90da1d6e-f193-4354-aaa9-4d214e7e46e5
REPORT RequestId: 90da1d6e-f193-4354-aaa9-4d214e7e46e5\tDuration: 2.43 ms\tBilled Duration: 3 ms\tMemory Size: 1024 MB\tMax Memory Used: 1024 MB\t
""".splitlines()

TIMED_OUT = """\
START RequestId: a864d014-e83d-4042-a7b8-a6e3313f541a Version: $LATEST
23 Nov 2026 15:59:42,598 [INFO] (rapid) INIT REPORT(durationMs: 33.102000)
23 Nov 2026 15:59:42,598 [INFO] (rapid) INVOKE START(requestId: a864d014-e83d-4042-a7b8-a6e3313f541a)
sleeping 2 967
23 Nov 2026 15:59:43,566 [ERROR] (rapid) Invoke failed error=errResetReceived InvokeID=a864d014-e83d-4042-a7b8-a6e3313f541a
23 Nov 2026 15:59:43,566 [WARNING] (rapid) Reset initiated: Timeout
23 Nov 2026 15:59:43,566 [INFO] (rapid) Sending SIGKILL to runtime-1(20707).
END RequestId: a864d014-e83d-4042-a7b8-a6e3313f541a
REPORT RequestId: a864d014-e83d-4042-a7b8-a6e3313f541a\tInit Duration: 0.02 ms\tDuration: 1000.00 ms\tBilled Duration: 1000 ms\tMemory Size: 3008 MB\tMax Memory Used: 3008 MB\t
""".splitlines()


def test_cold_invocation_takes_init_from_init_report_and_duration_from_rtdone() -> None:
    block = split_block(COLD)
    assert block.request_id == "8b92923e-1a7c-42f4-9973-8b5b641f7532"
    assert (block.init_duration_ms, block.duration_ms, block.timed_out) == (364.409, 2.815, False)


def test_function_lines_keep_start_and_end_and_drop_the_emulators_own() -> None:
    block = split_block(COLD)
    assert block.function_lines == [COLD[0], '{"level":"INFO","message":"event done"}', COLD[-2]]
    assert len(block.rapid_lines) == 6


def test_warm_invocation_has_no_init() -> None:
    block = split_block(WARM)
    assert (block.init_duration_ms, block.duration_ms) == (None, 2.205)
    assert "[ERROR] ConfigError: DESTINATION_BUCKET is not set" in block.function_lines


def test_timed_out_invocation_has_the_timeout_as_duration() -> None:
    block = split_block(TIMED_OUT)
    assert (block.timed_out, block.duration_ms, block.init_duration_ms) == (True, 1000.0, 33.102)


def test_report_line_is_lambdas_with_init_last_and_billed_including_init() -> None:
    report = Report("id-1", 2.815, 1024, 61, 364.409, timed_out=False)
    assert report.line() == (
        "REPORT RequestId: id-1\tDuration: 2.81 ms\tBilled Duration: 368 ms\tMemory Size: 1024 MB"
        "\tMax Memory Used: 61 MB\tInit Duration: 364.41 ms"
    )


def test_report_line_of_a_warm_timeout() -> None:
    report = Report("id-2", 1000.0, 128, 15, None, timed_out=True)
    assert report.line() == (
        "REPORT RequestId: id-2\tDuration: 1000.00 ms\tBilled Duration: 1000 ms\tMemory Size: 128 MB"
        "\tMax Memory Used: 15 MB\tStatus: timeout"
    )
