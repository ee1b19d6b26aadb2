"""The readers' registry and contract: every source format has exactly one reader, every reader
takes what load_source hands it, and the decoders a format needs are imported when such a file
arrives, not at cold start."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
from pathlib import Path

from local_run.inputs.camera_raw import dng
from local_run.inputs.samples import encode, heif_bytes, photo

from create_thumbnail.config import ALL_SOURCE_FORMATS, Box, Reading
from create_thumbnail.imaging.budget import Budget
from create_thumbnail.imaging.formats import JPEG, PDF, SOURCES, VIDEO
from create_thumbnail.imaging.readers import Loaded, registry
from create_thumbnail.imaging.readers.registry import READERS, TAKES_READING, load_source


def test_every_source_format_has_one_reader_and_every_reader_a_source_format():
    assert set(READERS) == {source.name for source in SOURCES.values()}


def test_every_setting_names_a_source_format():
    """config cannot import formats (formats imports config): SOURCE_FORMATS' names are written
    out there, and kept equal here."""
    assert set(ALL_SOURCE_FORMATS) == set(SOURCES)
    assert all(source.setting == setting for setting, source in SOURCES.items())


def test_every_reader_takes_the_readers_arguments():
    for reader in set(READERS.values()):
        assert list(inspect.signature(reader).parameters)[:4] == ["data", "boxes", "max_pixels", "budget"], reader


def test_only_a_reader_with_a_choice_takes_the_rules_reading_and_it_defaults_to_the_first_page():
    """A JPEG's reader never sees a Reading; a PDF's and a video's are handed it, keyword-only,
    and called without one (as READERS' entry) make the default choice."""
    assert set(TAKES_READING) == {PDF, VIDEO}
    for source_format, reader in READERS.items():
        parameters = inspect.signature(reader).parameters
        if source_format in TAKES_READING:
            assert TAKES_READING[source_format] is reader
            assert list(parameters)[4:] == ["reading"]
            assert parameters["reading"].kind is inspect.Parameter.KEYWORD_ONLY
            assert parameters["reading"].default == Reading() == Reading(page=1)
        else:
            assert len(parameters) == 4, source_format


def test_load_source_hands_the_reading_only_to_the_readers_that_take_it(monkeypatch):
    calls = []
    loaded = Loaded(photo((8, 8)), None, (8, 8))

    def plain(data, boxes, max_pixels, budget):
        calls.append("plain")
        return loaded

    def choosing(data, boxes, max_pixels, budget, *, reading=Reading()):
        calls.append(reading)
        return loaded

    monkeypatch.setattr(registry, "READERS", {JPEG: plain, PDF: choosing})
    monkeypatch.setattr(registry, "TAKES_READING", {PDF: choosing})
    load_source(encode(photo((8, 8)), "JPEG"), [Box(4, 4)], 1000, Budget(None), Reading(page=3))
    load_source(b"%PDF-1.7\n", [Box(4, 4)], 1000, Budget(None), Reading(page=3))
    assert calls == ["plain", Reading(page=3)]


def test_load_source_hands_the_bytes_to_the_reader_of_their_sniffed_format(monkeypatch):
    """What a new reader gets, and what it must give back."""
    calls = []
    loaded = Loaded(photo((8, 8)), None, (8, 8))

    def reader(data, boxes, max_pixels, budget):
        calls.append((data, boxes, max_pixels, budget))
        return loaded

    monkeypatch.setattr(registry, "READERS", {JPEG: reader})
    data = encode(photo((8, 8)), "JPEG")
    assert load_source(data, [Box(4, 4)], 1000, Budget(10**9)) is loaded
    assert calls == [(data, [Box(4, 4)], 1000, Budget(10**9))]


_PROBE = """
import sys
from pathlib import Path
import create_thumbnail.app
from create_thumbnail.config import ALL_SOURCE_FORMATS, Box, Reading
from create_thumbnail.imaging import make_thumbnails
loaded = [("pyvips" in sys.modules, "pi_heif" in sys.modules)]
for path in sys.argv[1:]:
    make_thumbnails(Path(path).read_bytes(), [Box(64, 64)], 50_000_000, source_formats=ALL_SOURCE_FORMATS)
    loaded.append(("pyvips" in sys.modules, "pi_heif" in sys.modules))
print(loaded)
"""


def test_a_jpegs_cold_start_imports_neither_libvips_nor_pi_heif(tmp_path: Path):
    """(pyvips loaded?, pi_heif loaded?) at cold start, after a JPEG, after a camera RAW (its
    preview is a JPEG: nothing more), after a HEIF, after a PNG."""
    files = []
    for name, data in [("a.jpg", encode(photo((400, 300)), "JPEG")), ("b.dng", dng((200, 150), preview=(400, 300))),
                       ("c.heic", heif_bytes(photo((400, 300)))), ("d.png", encode(photo((400, 300)), "PNG"))]:  # fmt: skip
        (tmp_path / name).write_bytes(data)
        files.append(str(tmp_path / name))
    done = subprocess.run([sys.executable, "-c", _PROBE, *files], capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})  # fmt: skip
    assert done.stdout.strip() == "[(False, False), (False, False), (False, False), (False, True), (True, True)]"


_LAYERED_PROBE = """
import sys
from pathlib import Path
import create_thumbnail.app
from create_thumbnail.config import ALL_SOURCE_FORMATS, Box
from create_thumbnail.imaging import make_thumbnails
DECODERS = ("av", "pillow_jxl", "create_thumbnail.imaging.readers.jxl")
loaded = [tuple(name in sys.modules for name in DECODERS)]
for path in sys.argv[1:]:
    make_thumbnails(Path(path).read_bytes(), [Box(64, 64)], 50_000_000, source_formats=ALL_SOURCE_FORMATS)
    loaded.append(tuple(name in sys.modules for name in DECODERS))
print(loaded)
"""


def test_the_decoders_in_layers_are_imported_with_the_first_file_that_needs_one(tmp_path: Path):
    """(PyAV, pillow-jxl-plugin, readers/jxl.py loaded?) at cold start, after a JPEG, after a
    JPEG XL: the layers' decoders cost a JPEG's cold start nothing, and a JPEG XL only its own."""
    jxl = Path(__file__).resolve().parents[1] / "fixtures" / "jxl" / "lossy-grey-icc.jxl"
    (tmp_path / "a.jpg").write_bytes(encode(photo((400, 300)), "JPEG"))
    files = [str(tmp_path / "a.jpg"), str(jxl)]
    done = subprocess.run([sys.executable, "-c", _LAYERED_PROBE, *files], capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})  # fmt: skip
    assert done.stdout.strip() == "[(False, False, False), (False, False, False), (False, True, True)]"
