"""CreateThumbnail benchmark: prints figures for choosing MemorySize and Timeout. Asserts nothing.

Run from the repository root with the venv's Python (scripts/bootstrap.sh makes the venv):

    .venv/bin/python benchmarks/handler_bench.py [--skip-large]    # about 2 minutes

--skip-large drops the 50 MP / 100 MP memory probes (most of the input generation time).

What it measures, and why:
  1. imaging only: create_thumbnail.imaging.make_thumbnails on photo-like inputs made by the
     project's own generator (local_run.samples), median and min over N runs, interleaved with a
     naive Pillow baseline (open, full load, exif_transpose, one LANCZOS resize, JPEG q85) so the
     ratio shows what JPEG draft and reducing_gap buy. Also the libjpeg decode cost per draft
     scale, and where the time goes for the 12 MP JPEG with boxes 256+1024.
  2. peak memory: each input in a FRESH subprocess (a peak is a high-water mark that cannot be
     reset, so peaks of different inputs must not share a process): RSS after the import, RSS
     with the input bytes loaded, peak RSS (VmHWM) after one make_thumbnails, and the same for
     the naive baseline. 50 MP / 100 MP probes, including 100 MP PNGs in the modes imaging
     converts through extra buffers, cover the MAX_SOURCE_PIXELS limit.
  3. the handler end to end through moto's HTTP server in this process: S3 GET + imaging + PUT.
  4. cold start in fresh subprocesses: `import create_thumbnail.app`, the first boto3 S3 client
     (which the handler builds on its first invocation), the first make_thumbnails, and the
     slowest imports from -X importtime.
  5. a Lambda sizing estimate from (1): duration at 512/1024/1769 MB and cost per million.

It is not a test: timings depend on the host (this is x86; Lambda arm64 is Graviton), on noise
from a 2-core machine and on Pillow's build, so it prints numbers for a human to read and never
fails. Every comparison it prints is measured side by side in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import redirect_stdout
from dataclasses import dataclass
from io import StringIO
from pathlib import Path

from common import (
    ARM64_PRICE_GB_S,
    DEV_ONLY_PACKAGES,
    HERE,
    LAMBDA_FULL_VCPU_MB,
    PRICE_PER_MILLION_REQUESTS,
    PYTHON,
    ROOT,
    cold_env,
    cost_per_million,
    lambda_ms,
    med,
    print_table,
    run_probe,
    section,
    time_interleaved,
    time_once,
)

MEMORY_SIZES_MB = (512, 1024, 1769)
# Above the app's DEFAULT_MAX_SOURCE_PIXELS (50 MP) on purpose: the 100 MP probes show what
# raising MAX_SOURCE_PIXELS would cost in memory.
MAX_PIXELS = 100_000_000
MAX_SOURCE_BYTES = 50 * 1024 * 1024  # the app's DEFAULT_MAX_SOURCE_BYTES


# --------------------------------------------------------------------------------------------
# inputs


@dataclass(frozen=True)
class Input:
    name: str
    data: bytes
    runs: int  # timing repetitions in section 1 (0: memory probe only)
    naive: bool = True  # also probe the naive baseline's memory

    @property
    def mb(self) -> float:
        return len(self.data) / 1e6


def make_inputs(large: bool) -> list[Input]:
    """Photo-like sources from the project's own generator (smooth fields + sensor noise)."""
    from PIL import Image

    from local_run.samples import encode, photo

    inputs = [
        Input("JPEG 12MP 4000x3000 q90", encode(photo((4000, 3000), seed=1), "JPEG", quality=90), 15),
        Input("JPEG 24MP 6000x4000 q90", encode(photo((6000, 4000), seed=2), "JPEG", quality=90), 15),
        Input("PNG 12MP 4000x3000 RGB", encode(photo((4000, 3000), seed=3), "PNG"), 5),
    ]
    rgba = photo((2000, 2000), seed=4)
    rgba.putalpha(Image.linear_gradient("L").resize(rgba.size))
    inputs.append(Input("PNG 4MP 2000x2000 RGBA", encode(rgba, "PNG"), 9))
    if large:
        # Memory probes for the pixel limit. compress_level=1 only to keep encoding quick; it
        # changes the file size, not the decoded size that dominates memory.
        for side, label in ((7072, "50MP"), (10000, "100MP")):
            image = photo((side, side), seed=5)
            inputs.append(Input(f"PNG {label} {side}x{side} RGB", encode(image, "PNG", compress_level=1), 0))
            if side == 10000:
                inputs.append(Input(f"JPEG {label} {side}x{side} q90", encode(image, "JPEG", quality=90), 0))
            del image
        inputs += worst_case_pngs()
    return inputs


def worst_case_pngs(side: int = 10_000) -> list[Input]:
    """100 MP PNGs that compress well enough to pass MAX_SOURCE_BYTES (a photo-like 100 MP PNG
    does not) in the modes imaging converts through extra buffers: plain RGB, 16-bit grey, and
    a palette with a transparent index. Gradients, not photos: only the decoded size matters."""
    from PIL import Image

    from local_run.samples import encode

    grey = Image.linear_gradient("L").resize((side, side))
    rgb = Image.merge("RGB", (grey, grey.transpose(Image.Transpose.ROTATE_90), grey))
    grey16 = grey.convert("I").point(lambda value: value * 256).convert("I;16")
    label = f"{side * side // 1_000_000}MP"
    return [
        Input(f"PNG {label} RGB gradient", encode(rgb, "PNG", compress_level=1), 0, naive=False),
        Input(f"PNG {label} 16-bit grey", encode(grey16, "PNG", compress_level=1), 0, naive=False),
        Input(f"PNG {label} palette+tRNS", encode(grey.convert("P"), "PNG", compress_level=1, transparency=0),
              0, naive=False),
    ]


# --------------------------------------------------------------------------------------------
# the two implementations under measurement


def app_thumbnails(data: bytes, boxes: list[tuple[int, int]]) -> list[bytes]:
    from create_thumbnail.config import Box
    from create_thumbnail.imaging import make_thumbnails

    return [t.data for t in make_thumbnails(data, [Box(*b) for b in boxes], max_pixels=MAX_PIXELS)]


def naive_thumbnail(data: bytes, box: tuple[int, int] = (256, 256)) -> bytes:
    """What a first attempt looks like: decode everything, one LANCZOS resize, JPEG q85."""
    from io import BytesIO

    from PIL import Image, ImageOps

    image = Image.open(BytesIO(data))
    image.load()
    image = ImageOps.exif_transpose(image)
    scale = min(box[0] / image.width, box[1] / image.height, 1.0)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    small = image.resize(size, Image.Resampling.LANCZOS)
    if small.mode not in ("RGB", "L"):
        small = small.convert("RGB")  # JPEG has no alpha; the naive way just drops it
    buffer = BytesIO()
    small.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


# --------------------------------------------------------------------------------------------
# 1. imaging only

BOX_SETS = {"256": [(256, 256)], "256+1024": [(256, 256), (1024, 1024)]}


def decoded_size(data: bytes, boxes: list[tuple[int, int]]) -> str:
    """The size load_source decodes to: shows whether JPEG draft took effect."""
    from create_thumbnail.config import Box
    from create_thumbnail.imaging import load_source

    image, *_ = load_source(data, [Box(*b) for b in boxes], MAX_PIXELS)
    return f"{image.width}x{image.height}"


def bench_imaging(inputs: list[Input]) -> dict[tuple[str, str], list[float]]:
    section("1. imaging only: make_thumbnails vs naive baseline (ms, same run, interleaved)")
    results: dict[tuple[str, str], list[float]] = {}
    rows = []
    for item in (i for i in inputs if i.runs):
        functions = {
            "app 256": lambda d=item.data: app_thumbnails(d, BOX_SETS["256"]),
            "app 256+1024": lambda d=item.data: app_thumbnails(d, BOX_SETS["256+1024"]),
            "naive 256": lambda d=item.data: naive_thumbnail(d),
        }
        samples = time_interleaved(functions, item.runs)
        for name, values in samples.items():
            results[(item.name, name)] = values
        app, both, naive = samples["app 256"], samples["app 256+1024"], samples["naive 256"]
        rows.append((
            item.name, f"{item.mb:.1f}", item.runs,
            f"{med(app):.1f}", f"{min(app):.1f}", decoded_size(item.data, BOX_SETS["256"]),
            f"{med(both):.1f}", f"{min(both):.1f}", decoded_size(item.data, BOX_SETS["256+1024"]),
            f"{med(naive):.1f}", f"{min(naive):.1f}", f"{med(naive) / med(app):.1f}x",
        ))
    print_table(
        ("input", "MB", "N", "256 med", "min", "decoded", "256+1024 med", "min", "decoded",
         "naive med", "min", "naive/app"),
        rows,
    )
    print("  'decoded' = the size load_source decodes to (JPEG draft); naive always decodes in full.")
    return results


def bench_draft_scales(item: Input) -> None:
    """Decode-only cost of the 12 MP JPEG at each libjpeg scale: what a draft step saves."""
    from io import BytesIO

    from PIL import Image

    def decode(scale: int) -> Callable[[], object]:
        def run() -> object:
            image = Image.open(BytesIO(item.data))
            if scale > 1:
                image.draft("RGB", (image.width // scale, image.height // scale))
            image.load()
            return image.size

        return run

    samples = time_interleaved({f"1/{s}": decode(s) for s in (1, 2, 4, 8)}, 9)
    print(f"\n  decode only, {item.name}, Image.draft scale -> ms (median of 9):  " + "   ".join(
        f"{name}: {med(values):.1f}" for name, values in samples.items()
    ))


def bench_breakdown(item: Input) -> None:
    """Where make_thumbnails spends its time when one box is large (the 12 MP, 256+1024 case).

    Touches imaging's private helpers; skipped quietly if they are renamed."""
    from create_thumbnail import imaging
    from create_thumbnail.config import Box

    if not all(hasattr(imaging, n) for n in ("load_source", "_resize", "_DRAFT_GAP")):
        print("  (breakdown skipped: imaging's internals changed)")
        return
    boxes = [Box(256, 256), Box(1024, 1024)]
    image, *_ = imaging.load_source(item.data, boxes, MAX_PIXELS)
    raw = _decoded_in_full(item.data)

    def make_with_gap(gap: float) -> Callable[[], object]:
        def run() -> object:
            saved, imaging._DRAFT_GAP = imaging._DRAFT_GAP, gap
            try:
                return imaging.make_thumbnails(item.data, boxes, MAX_PIXELS)
            finally:
                imaging._DRAFT_GAP = saved
        return run

    samples = time_interleaved({
        "load_source": lambda: imaging.load_source(item.data, boxes, MAX_PIXELS),
        "  (for scale: one convert('RGB') copy of the full image)": lambda: raw.convert("RGB"),
        "_resize to 1024x1024": lambda: imaging._resize(image, boxes[1]),
        "_resize to 256x256": lambda: imaging._resize(image, boxes[0]),
        f"make_thumbnails as is (draft gap {imaging._DRAFT_GAP})": make_with_gap(imaging._DRAFT_GAP),
        "make_thumbnails with Image.thumbnail's gap 2.0": make_with_gap(2.0),
    }, 9)
    print(f"\n  breakdown, {item.name}, boxes 256+1024 (median of 9, ms; decoded at {image.width}x{image.height}):")
    print_table(("step", "median ms"), [(n, f"{med(v):.1f}") for n, v in samples.items()])


def _decoded_in_full(data: bytes) -> object:
    from io import BytesIO

    from PIL import Image

    image = Image.open(BytesIO(data))
    image.load()
    return image


# --------------------------------------------------------------------------------------------
# 2. peak memory, one fresh subprocess per measurement

# run with common.PROBE_HELPERS (rss_mb, peak_mb; this folder on sys.path) in front of it
PROBE = """
from pathlib import Path
import create_thumbnail.imaging  # the same import baseline for both implementations
import handler_bench
after_import = rss_mb()
data = Path(sys.argv[1]).read_bytes()
with_bytes, peak_before = rss_mb(), peak_mb()
started = time.perf_counter()
if sys.argv[2] == "app":
    handler_bench.app_thumbnails(data, json.loads(sys.argv[3]))
else:
    handler_bench.naive_thumbnail(data)
ms = (time.perf_counter() - started) * 1000
print(json.dumps(dict(after_import=after_import, with_bytes=with_bytes, peak_before=peak_before,
                      peak=peak_mb(), ms=ms)))
"""


def probe_memory(path: Path, implementation: str, boxes: list[tuple[int, int]]) -> dict[str, float]:
    return run_probe(PROBE, [str(path), implementation, json.dumps(boxes)])


def bench_memory(inputs: list[Input]) -> dict[str, dict[str, float]]:
    """Peak = VmHWM of the probe process (common.PROBE_HELPERS says why not ru_maxrss)."""
    section("2. peak memory per input, fresh subprocess each (MB; delta = peak RSS - RSS with bytes)")
    rows, app_probes = [], {}
    with tempfile.TemporaryDirectory(dir=HERE, prefix=".bench-") as tmp:
        for item in inputs:
            path = Path(tmp) / "input.bin"
            path.write_bytes(item.data)
            cases = [("app 256", "app", BOX_SETS["256"])]
            if item.name.startswith("JPEG 12MP"):
                cases.append(("app 256+1024", "app", BOX_SETS["256+1024"]))
            if item.naive:
                cases.append(("naive 256", "naive", BOX_SETS["256"]))
            for label, implementation, boxes in cases:
                probe = probe_memory(path, implementation, boxes)
                if label == "app 256":
                    app_probes[item.name] = probe
                over = "*" if len(item.data) > MAX_SOURCE_BYTES else ""
                rows.append((
                    item.name if label == "app 256" else "", label, f"{item.mb:.1f}{over}",
                    f"{probe['after_import']:.0f}", f"{probe['with_bytes']:.0f}",
                    f"{probe['peak']:.0f}", f"{probe['peak'] - probe['with_bytes']:.0f}",
                    f"{probe['ms']:.0f}",
                ))
    print_table(
        ("input", "impl", "input MB", "RSS import", "RSS +bytes", "peak RSS", "delta", "ms (1st call)"),
        rows, right_from=2,
    )
    print("  RSS import = python + create_thumbnail.imaging (Pillow), no boto3/powertools; the")
    print("  handler's own baseline is in section 4. 'ms (1st call)' is one cold call, not a median.")
    print("  * over MAX_SOURCE_BYTES (50 MiB): the handler refuses it before decoding; the decode")
    print("    memory is what a better-compressed PNG of the same pixels costs.")
    return app_probes


# --------------------------------------------------------------------------------------------
# 3. the handler end to end on moto's HTTP server


def bench_handler(jpeg: Input, runs: int = 20) -> dict[str, list[float]]:
    section(f"3. handler end to end on moto's HTTP server, {jpeg.name} ({runs} invocations)")
    import boto3

    from local_run.context import LocalContext
    from local_run.embedded_s3 import LOCAL_AWS_ENV, embedded_s3, environment
    from local_run.s3_events import put_event, put_record

    source, destination, key = "bench-source", "bench-resized", "photos/bench-12mp.jpg"
    env = {
        **LOCAL_AWS_ENV,
        "DESTINATION_BUCKET": destination,
        "POWERTOOLS_SERVICE_NAME": "create-thumbnail-bench",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "THUMBNAIL_SIZES": "256x256",
    }
    results: dict[str, list[float]] = {}
    with embedded_s3() as endpoint, environment({**env, "AWS_ENDPOINT_URL": endpoint}):
        s3 = boto3.client("s3")
        for bucket in (source, destination):
            s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket=source, Key=key, Body=jpeg.data, ContentType="image/jpeg")
        head = s3.head_object(Bucket=source, Key=key)
        event = put_event(put_record(source, key, head["ContentLength"], head["ETag"]))

        from create_thumbnail import app  # after the environment is set, as Lambda would

        def clear() -> None:
            """A thumbnail already there makes the handler skip the record as a duplicate."""
            listed = s3.list_objects_v2(Bucket=destination).get("Contents", [])
            if listed:
                s3.delete_objects(Bucket=destination,
                                  Delete={"Objects": [{"Key": o["Key"]} for o in listed]})

        def invoke() -> None:
            with redirect_stdout(StringIO()):  # the handler's EMF metrics line
                _check_created(app.lambda_handler(event, LocalContext()))

        first = time_once(invoke)
        for sizes in ("256x256", "256x256,1024x1024"):
            os.environ["THUMBNAIL_SIZES"] = sizes
            app.wiring.cache_clear()  # re-read the settings (the client is rebuilt, untimed)
            functions = {
                f"handler {sizes}": invoke,
                "S3 I/O only (GET source + PUT 5 KB)": lambda: _s3_round_trip(s3, source, key, destination),
            }
            results.update(time_interleaved(functions, runs, before=clear))
    rows = [(name, f"{med(v):.1f}", f"{min(v):.1f}", f"{max(v):.1f}") for name, v in results.items()]
    print_table(("what", "median ms", "min ms", "max ms"), rows)
    print("  first invocation (wiring: Settings + boto3 client; boto3's default session is already")
    print(f"  warm from this script's own client, so see section 4 for a real cold start): {first:.0f} ms")
    print("  moto runs in this process (threads sharing the GIL): its request parsing and the HTTP")
    print("  over loopback are inside these figures; real S3 adds network latency, not CPU.")
    return results


def _check_created(reply: dict) -> None:
    if reply.get("created") != 1:  # a failing handler would make fast, meaningless numbers
        raise RuntimeError(f"handler did not create a thumbnail: {reply}")


def _s3_round_trip(s3: object, source: str, key: str, destination: str) -> None:
    body = s3.get_object(Bucket=source, Key=key)["Body"].read()
    s3.put_object(Bucket=destination, Key="io-only/" + key, Body=body[:5000], ContentType="image/jpeg")


# --------------------------------------------------------------------------------------------
# 4. cold start

COLD = """
import json, sys, time
for blocked in {blocked!r}:
    sys.modules[blocked] = None  # import raises ImportError, as when the package is absent
started = time.perf_counter()
import create_thumbnail.app
imported = time.perf_counter()
from create_thumbnail.storage import s3_client
s3_client()
client = time.perf_counter()
s3_client()
client2 = time.perf_counter()
sys.path.insert(0, {here!r})
import handler_bench
data = open(sys.argv[1], "rb").read()
t0 = time.perf_counter()
handler_bench.app_thumbnails(data, [(256, 256)])
first = time.perf_counter()
rss = [int(l.split()[1]) / 1024 for l in open("/proc/self/status") if l.startswith("VmRSS:")][0]
print(json.dumps(dict(import_ms=(imported - started) * 1000, client_ms=(client - imported) * 1000,
                      client2_ms=(client2 - client) * 1000, first_thumb_ms=(first - t0) * 1000,
                      rss_mb=rss)))
"""


def bench_cold_start(jpeg: Input, warm_ms: float, runs: int = 7) -> dict[str, float]:
    section(f"4. cold start, {runs} fresh interpreters (ms)")
    env = cold_env()
    keys = ("interpreter", "import_ms", "client_ms", "client2_ms", "first_thumb_ms", "rss_mb")
    samples: dict[str, list[float]] = {k: [] for k in (*keys, "lambda_import_ms", "lambda_client_ms")}
    with tempfile.TemporaryDirectory(dir=HERE, prefix=".bench-") as tmp:
        path = Path(tmp) / "input.jpg"
        path.write_bytes(jpeg.data)
        for _ in range(runs):
            samples["interpreter"].append(time_once(lambda: subprocess.run([PYTHON, "-c", "pass"], check=True, env=env)))
            for prefix, blocked in (("", ()), ("lambda_", DEV_ONLY_PACKAGES)):
                code = COLD.format(here=str(HERE), blocked=blocked)
                out = subprocess.run([PYTHON, "-c", code, str(path)],
                                     check=True, capture_output=True, text=True, cwd=ROOT, env=env).stdout
                for name, value in json.loads(out.strip().splitlines()[-1]).items():
                    if not prefix or name in ("import_ms", "client_ms"):
                        samples[prefix + name].append(value)
    labels = {
        "interpreter": "python -c pass (process start + exit, wall)",
        "import_ms": "import create_thumbnail.app (in-process)",
        "lambda_import_ms": "  same, awscrt + pyOpenSSL blocked (as in Lambda)",
        "client_ms": "first create_thumbnail.storage.s3_client()",
        "lambda_client_ms": "  same, awscrt + pyOpenSSL blocked (as in Lambda)",
        "client2_ms": "second s3_client() (for contrast)",
        "first_thumb_ms": f"first make_thumbnails, {jpeg.name}, 256",
    }
    rows = [(label, f"{med(samples[k]):.1f}", f"{min(samples[k]):.1f}") for k, label in labels.items()]
    print_table(("what", "median", "min"), rows)
    print(f"  warm make_thumbnails median from section 1: {warm_ms:.1f} ms; "
          f"RSS after import + client + one thumbnail: {med(samples['rss_mb']):.0f} MB (median)")
    print_slowest_imports(env)
    return {k: med(v) for k, v in samples.items()}


def print_slowest_imports(env: dict[str, str], top: int = 5) -> None:
    """-X importtime prints 'import time: self | cumulative | name' per module on stderr."""
    stderr = subprocess.run([PYTHON, "-X", "importtime", "-c", "import create_thumbnail.app"],
                            check=True, capture_output=True, text=True, cwd=ROOT, env=env).stderr
    entries = []
    for line in stderr.splitlines():
        match = re.match(r"import time:\s+(\d+)\s+\|\s+(\d+)\s+\|( *)(\S+)", line)
        if match:
            entries.append((int(match[2]) / 1000, int(match[1]) / 1000, len(match[3]) // 2, match[4]))
    in_order = list(entries)  # importtime's order (children before parents)
    entries.sort(reverse=True)
    print("\n  slowest imports by cumulative time (one -X importtime run, which inflates times):")
    print_table(("module (indent = nesting)", "cumulative ms", "self ms"),
                [("  " * depth + name, f"{cum:.1f}", f"{own:.1f}") for cum, own, depth, name in entries[:top]])
    dev_only = [(cum, name) for cum, _, _, name in in_order if name.split(".")[0] in ("_awscrt", *DEV_ONLY_PACKAGES)
                and name.count(".") == 0]
    print("  dev-venv-only top-level modules in that tree: " + ", ".join(f"{n} {ms:.0f} ms" for ms, n in dev_only))


# --------------------------------------------------------------------------------------------
# 5. Lambda sizing estimate


def print_sizing(cases: list[tuple[str, float]]) -> None:
    section("5. Lambda sizing estimate (arm64; this host's time treated as one full vCPU)")
    header = ("what (measured ms here)",) + tuple(
        f"{mb} MB: ms / $ per M" for mb in MEMORY_SIZES_MB
    )
    rows = []
    for name, ms in cases:
        cells = []
        for mb in MEMORY_SIZES_MB:
            estimate = lambda_ms(ms, mb)
            cells.append(f"{estimate:7.0f} / ${cost_per_million(estimate, mb):6.2f}")
        rows.append((f"{name} ({ms:.0f})", *cells))
    print_table(header, rows)
    print(f"  duration = t * max(1, {LAMBDA_FULL_VCPU_MB}/MB); cost = duration * GB * ${ARM64_PRICE_GB_S}"
          f" + ${PRICE_PER_MILLION_REQUESTS:.2f} per M requests.")
    print("  Uncertain: Graviton vs this x86 host (Pillow/libjpeg SIMD differ), real S3 latency instead")
    print("  of moto, and the billed cold-start INIT phase, none of which is in these figures.")


def print_memory_sizing(probes: dict[str, dict[str, float]], inputs: list[Input], handler_rss: float) -> None:
    """Lambda's 'Max Memory Used' is the sandbox's RSS; the Python runtime client runs in the
    same process as the handler, so the warm handler's RSS is the floor everything stacks on."""
    sizes = {i.name: i.mb for i in inputs}
    rows = []
    for name, probe in probes.items():
        delta = probe["peak"] - probe["with_bytes"]
        total = handler_rss + sizes[name] + delta
        fits = " ".join(f"{mb}:{'ok' if total < 0.9 * mb else 'NO'}" for mb in MEMORY_SIZES_MB)
        rows.append((name, f"{sizes[name]:.0f}", f"{delta:.0f}", f"{total:.0f}", fits))
    print(f"\n  estimated Max Memory Used = handler RSS after a warm call ({handler_rss:.0f} MB, section 4)"
          " + input bytes + delta (section 2), box 256:")
    print_table(("input", "input MB", "delta", "est. MB", "fits with 10% headroom"), rows)


# --------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-large", action="store_true", help="skip the 50 MP / 100 MP memory probes")
    args = parser.parse_args()
    sys.path.insert(0, str(HERE))  # the memory probes import this file as handler_bench

    import PIL

    print(f"python {sys.version.split()[0]}, Pillow {PIL.__version__}, {os.cpu_count()} CPUs, "
          f"{os.uname().machine}; generating inputs ...", flush=True)
    started = time.perf_counter()
    inputs = make_inputs(large=not args.skip_large)
    print(f"  {len(inputs)} inputs in {time.perf_counter() - started:.0f} s: "
          + ", ".join(f"{i.name} = {i.mb:.1f} MB" for i in inputs))
    jpeg12 = inputs[0]

    imaging = bench_imaging(inputs)
    bench_draft_scales(jpeg12)
    bench_breakdown(jpeg12)
    memory = bench_memory(inputs)
    handler = bench_handler(jpeg12)
    warm = med(imaging[(jpeg12.name, "app 256")])
    cold = bench_cold_start(jpeg12, warm)

    cases = [
        ("12MP JPEG, 256, imaging", warm),
        ("12MP JPEG, 256+1024, imaging", med(imaging[(jpeg12.name, "app 256+1024")])),
        ("24MP JPEG, 256, imaging", med(imaging[(inputs[1].name, "app 256")])),
        ("12MP JPEG, 256, handler+moto", med(handler["handler 256x256"])),
        ("12MP PNG RGB, 256, imaging", med(imaging[(inputs[2].name, "app 256")])),
    ]
    cases += [(f"{name}, 1 call", probe["ms"]) for name, probe in memory.items()
              if "50MP" in name or "100MP" in name]
    print_sizing(cases)
    print_memory_sizing(memory, inputs, cold["rss_mb"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
