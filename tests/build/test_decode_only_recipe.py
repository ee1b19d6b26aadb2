"""The video layer's decode-only build (layers/video/decode-only.sh), held to what it must agree with.

Building FFmpeg takes minutes, more than the suite can spend, so scripts/check-decode-only-video
builds it for this machine and runs the video tests on it. What drifts silently is checked here:
PyAV's modules are kept and only FFmpeg is swapped, so the FFmpeg built must be the release the
locked wheel was built against; the demuxers must be the ones sniffing can name, the decoders
every codec of the real clips; the configuration must stay LGPL and decode-only; and the
Makefile must run the script only when asked.
"""

from __future__ import annotations

import inspect
import os
import re
import shutil
import subprocess
from pathlib import Path

import av  # pyproject's video extra, which pins the layer's PyAV

from create_thumbnail.imaging.readers import sniff
from tests.tooling import missing_tool

REPO_ROOT = Path(__file__).resolve().parents[2]
LAYER = REPO_ROOT / "layers" / "video"
SCRIPT = (LAYER / "decode-only.sh").read_text()
# The build layers/video/Makefile names: pyav-wheel or decode-only (tests/build/test_sam_build.py
# checks that one's documented sizes).
CHOSEN_BUILD = re.search(
    r"^VIDEO_DECODER_BUILD := (\S+)$", (LAYER / "Makefile").read_text(), re.MULTILINE
)[1]
CLIPS = sorted(
    p for p in (REPO_ROOT / "tests" / "fixtures" / "video").iterdir() if p.suffix != ".md"
)


def script_list(name: str) -> set[str]:
    """A comma-separated list the script sets, e.g. DECODERS=h264,hevc."""
    return set(re.search(rf"^{name}=(\S+)$", SCRIPT, re.MULTILINE).group(1).split(","))


def configure_options() -> list[str]:
    """The options the script passes to FFmpeg's configure."""
    call = SCRIPT[SCRIPT.index('/configure" \\') : SCRIPT.index('>"$WORK/ffmpeg.log"')]
    return re.findall(r"--[a-z0-9-]+", call)


def test_it_builds_the_ffmpeg_release_the_locked_pyav_was_built_against() -> None:
    """PyAV's compiled modules reach into FFmpeg's structures: another release breaks them
    (pyproject's video extra pins the layer's PyAV: tests/unit/test_requirements.py)."""
    version = re.search(r"^FFMPEG_VERSION=(\S+)$", SCRIPT, re.MULTILINE).group(1)
    assert version == av.ffmpeg_version_info


def test_its_demuxers_are_the_ones_sniffing_can_name() -> None:
    named = set(re.findall(r'return "(\w+)"', inspect.getsource(sniff.movie_demuxer)))
    assert named and script_list("DEMUXERS") == named


def test_it_decodes_every_codec_of_the_real_clips() -> None:
    decoders = set()
    for clip in CLIPS:
        with av.open(str(clip)) as container:
            decoders |= {stream.codec_context.codec.name for stream in container.streams.video}
    assert len(CLIPS) >= 15 and {"h264", "hevc", "vp8", "vp9", "libdav1d"} <= decoders
    assert decoders <= script_list("DECODERS")


def test_ffmpeg_is_configured_lgpl_and_to_decode_only() -> None:
    options = configure_options()
    assert {"--disable-everything", "--disable-network", "--disable-autodetect",
            "--disable-programs", "--enable-decoder", "--enable-demuxer"} <= set(options)  # fmt: skip
    for widening in ("--enable-gpl", "--enable-nonfree", "--enable-version3", "--enable-encoder",
                     "--enable-muxer", "--enable-protocol", "--enable-indev", "--enable-filter"):  # fmt: skip
        assert widening not in options
    assert '== "LGPL version 2.1 or later" ]] || die' in SCRIPT


def make_dry_run(
    *variables: str, environment: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    if shutil.which("make") is None:
        missing_tool("make", "apt-get install make")
    return subprocess.run(["make", "-n", "-C", str(LAYER), "build-VideoDecoderLayer",
                           "ARTIFACTS_DIR=/nonexistent", *variables],
                          capture_output=True, text=True, check=False,
                          env=None if environment is None else os.environ | environment)  # fmt: skip


def runs_the_script(dry_run: subprocess.CompletedProcess[str]) -> bool:
    assert dry_run.returncode == 0, dry_run.stderr
    return "decode-only.sh" in dry_run.stdout


def test_the_makefile_runs_the_script_for_the_decode_only_build_alone() -> None:
    assert not runs_the_script(make_dry_run("VIDEO_DECODER_BUILD=pyav-wheel"))
    asked = make_dry_run("VIDEO_DECODER_BUILD=decode-only")
    assert runs_the_script(asked)
    steps = asked.stdout
    assert steps.index("pip install") < steps.index("decode-only.sh") < steps.index("compileall")
    assert '"/nonexistent/python" aarch64' in steps


def test_the_folder_chooses_the_build_not_the_environment() -> None:
    """sam build's cache keys a layer on its folder: a choice the folder does not hold would be
    answered with whichever build the cache kept."""
    other = {"pyav-wheel": "decode-only", "decode-only": "pyav-wheel"}[CHOSEN_BUILD]
    assert runs_the_script(make_dry_run()) == (CHOSEN_BUILD == "decode-only")
    from_environment = make_dry_run(environment={"VIDEO_DECODER_BUILD": other})
    assert runs_the_script(from_environment) == (CHOSEN_BUILD == "decode-only")


def test_the_makefile_names_the_builds_when_given_another() -> None:
    wrong = make_dry_run("VIDEO_DECODER_BUILD=gpl")
    assert wrong.returncode != 0
    assert "VIDEO_DECODER_BUILD must be pyav-wheel or decode-only, not 'gpl'" in wrong.stderr
