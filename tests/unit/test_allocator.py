"""The allocator's settings: the handler's cold start keeps freed memory mapped for the next
image, on glibc, unless the deployer tuned malloc's thresholds already."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from io import BytesIO

import pytest
from local_run.inputs.samples import encode
from PIL import Image

from create_thumbnail.config import Box
from create_thumbnail.imaging import allocator
from create_thumbnail.imaging.allocator import keep_freed_memory, set_by_deployer
from create_thumbnail.imaging.budget import Budget, Header, estimate_peak
from create_thumbnail.imaging.readers.jpeg import _draft
from create_thumbnail.imaging.readers.registry import load_source

_ON_GLIBC = platform.libc_ver()[0] == "glibc"

# Three 10 MB buffers, held together and freed, as an image's decode, copy and encodes are; then
# again, counting the minor page faults the second time: each is a page the kernel had to map and
# zero because the first round's memory was handed back.
_PROBE = """
import resource, sys
if sys.argv[1] != "plain":
    import create_thumbnail.app
def faults_of_one_round():
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    held = [bytearray(10 * 2**20) for _ in range(3)]
    del held
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
faults_of_one_round()
if sys.argv[1] == "released":
    from create_thumbnail.imaging.allocator import release_freed_memory
    def faults_of_one_round(unreleased=faults_of_one_round):
        release_freed_memory()
        return unreleased()
print(max(faults_of_one_round() for _ in range(3)))
"""
_PAGES_PER_ROUND = 3 * 10 * 2**20 // 4096


def _faults_after_warm_up(process: str, **environ: str) -> int:
    done = subprocess.run([sys.executable, "-c", _PROBE, process], capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), **environ})  # fmt: skip
    return int(done.stdout)


@pytest.mark.skipif(not _ON_GLIBC, reason="the settings are glibc's")
def test_the_handler_process_reuses_freed_pages():
    assert _faults_after_warm_up("plain") > _PAGES_PER_ROUND // 2  # what glibc does by itself
    assert _faults_after_warm_up("handler") < _PAGES_PER_ROUND // 20


@pytest.mark.skipif(not _ON_GLIBC, reason="the settings are glibc's")
def test_released_pages_are_faulted_in_again():
    """What an image near the budget gets first: the kept pages go back, as glibc's own default
    would have given them."""
    assert _faults_after_warm_up("released") > _PAGES_PER_ROUND // 2


@pytest.mark.skipif(not _ON_GLIBC, reason="the settings are glibc's")
def test_a_deployers_own_threshold_is_left_in_force():
    assert _faults_after_warm_up("handler", MALLOC_TRIM_THRESHOLD_="0") > _PAGES_PER_ROUND // 2


@pytest.mark.parametrize(
    "environ",
    [
        {"MALLOC_TRIM_THRESHOLD_": "0"},
        {"MALLOC_MMAP_THRESHOLD_": "131072"},
        {"MALLOC_TOP_PAD_": "0"},
        {"GLIBC_TUNABLES": "glibc.malloc.check=0:glibc.malloc.trim_threshold=1048576"},
    ],
)
def test_malloc_settings_in_the_environment_win(environ):
    assert set_by_deployer(environ)
    assert keep_freed_memory(environ) is False


def test_other_tunables_do_not_count_as_settings():
    assert not set_by_deployer(
        {"GLIBC_TUNABLES": "glibc.malloc.arena_max=2", "MALLOC_ARENA_MAX": "2"}
    )


@pytest.mark.skipif(not _ON_GLIBC, reason="the settings are glibc's")
def test_glibc_takes_the_settings():
    assert keep_freed_memory({}) is True


@pytest.mark.parametrize(
    ("room", "released"), [(allocator.TRIM_THRESHOLD - 1, True), (allocator.TRIM_THRESHOLD, False)]
)
def test_an_image_near_the_budget_has_the_kept_pages_released_first(monkeypatch, room, released):
    data = encode(Image.linear_gradient("L").resize((1200, 900)).convert("RGB"), "JPEG")
    boxes = [Box(1024, 1024)]
    image = Image.open(BytesIO(data))
    header = Header.of(image)
    _draft(image, boxes, 1)
    estimate = estimate_peak(header, image.size, boxes, False)
    calls = []
    monkeypatch.setattr(allocator, "release_freed_memory", lambda: calls.append(1))
    load_source(data, boxes, 50_000_000, Budget(estimate + len(data) + room))
    assert calls == ([1] if released else [])


_BLOCK_PROBE = """
from PIL import Image
import create_thumbnail.app
from create_thumbnail.imaging.arrow import borrow_rgbx
print(Image.core.get_block_size(), borrow_rgbx(Image.new("RGB", (3000, 2000))) is not None)
"""


def _handler_blocks(**environ: str) -> tuple[int, bool]:
    done = subprocess.run([sys.executable, "-c", _BLOCK_PROBE], capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), **environ})  # fmt: skip
    size, lent = done.stdout.split()
    return int(size), lent == "True"


def test_the_handler_keeps_a_24_mb_decode_in_one_block_below_the_mmap_threshold():
    """The 1/2 draft of a 24 MP JPEG (3000x2000 RGBX, 24 MB): one block, so libvips reads it in
    place, and under the mmap threshold, so its pages are among those kept."""
    assert allocator.PILLOW_BLOCK_SIZE < allocator.MMAP_THRESHOLD
    assert _handler_blocks() == (allocator.PILLOW_BLOCK_SIZE, True)


def test_a_deployers_pillow_block_size_is_left_in_force():
    assert _handler_blocks(PILLOW_BLOCK_SIZE="16m") == (16 * 2**20, False)
