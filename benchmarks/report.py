"""The report: tables, the Lambda price model, and the targets as PASS/MISS. Prints, never
asserts: every figure depends on this host (x86 here; Lambda arm64 is Graviton), on what else
runs on it and on each library's build."""

from __future__ import annotations

import math
from pathlib import Path

from corpus import ONE_BOX, THREE_BOXES, WARM_UP_SIZE, Source
from measure import Timings, measure_cold_start, med, ratio, spread

# Lambda: CPU share grows with memory up to one vCPU at 1769 MB; arm64 prices (us-east-1).
LAMBDA_FULL_VCPU_MB = 1769
ARM64_PRICE_GB_S = 0.0000133334
PRICE_PER_MILLION_REQUESTS = 0.20
# The JPEG targets against the libjpeg-turbo floor: ours / floor at most this, per set of boxes.
FLOOR_LIMITS = {ONE_BOX: 1.05, THREE_BOXES: 1.1}


def section(title: str) -> None:
    print(f"\n== {title} " + "=" * max(0, 94 - len(title)), flush=True)


def print_table(header: tuple[str, ...], rows: list[tuple[object, ...]], right_from: int = 1) -> None:
    cells = [tuple(str(c) for c in header), *[tuple(str(c) for c in row) for row in rows]]
    widths = [max(len(line[i]) for line in cells) for i in range(len(header))]

    def fmt(line: tuple[str, ...]) -> str:
        padded = (c.rjust(w) if i >= right_from else c.ljust(w) for i, (c, w) in enumerate(zip(line, widths)))
        return "  ".join(padded).rstrip()

    print("  " + fmt(cells[0]))
    print("  " + "  ".join("-" * w for w in widths))
    for line in cells[1:]:
        print("  " + fmt(line))


def lambda_ms(measured_ms: float, memory_mb: int) -> float:
    """Lambda's CPU share scales with memory (1769 MB = 1 vCPU); the work is single-threaded, so
    more than one vCPU does not help and less stretches it proportionally."""
    return measured_ms * max(1.0, LAMBDA_FULL_VCPU_MB / memory_mb)


def cost_per_million(duration_ms: float, memory_mb: int) -> float:
    billed_s = math.ceil(duration_ms) / 1000  # billed per 1 ms, rounded up
    return 1e6 * billed_s * (memory_mb / 1024) * ARM64_PRICE_GB_S + PRICE_PER_MILLION_REQUESTS


def print_speed_and_memory(names: list[str], corpus: list[Source], timings: Timings, peaks: dict) -> None:
    section("time (ms, median of interleaved rounds) and peak memory (MB above the warm process)")
    others = [n for n in names if n != "ours"]
    rows = []
    for source in corpus:
        for sides in (ONE_BOX, THREE_BOXES):
            cells = []
            for name in names:
                values = timings.get((source.name, sides, name))
                peak = peaks.get((source.name, sides, name))
                cells.append("-" if not values else f"{med(values):.1f} ±{100 * spread(values):.0f}% {peak:.0f}MB"
                             if peak is not None else f"{med(values):.1f}")  # fmt: skip
            ratios = [ratio(timings, source, sides, other) for other in others]
            rows.append((source.name, "+".join(map(str, sides)), *cells,
                         *("-" if r is None else f"{r:.2f}" for r in ratios)))  # fmt: skip
    print_table(("input", "boxes", *names, *(f"ours/{n}" for n in others)), rows, right_from=2)
    print("  Each cell: median ms, interquartile range over the median (the cell's noise), peak MB:")
    print("  VmHWM after one call less RSS before it, in a fresh worker warmed on a "
          f"{WARM_UP_SIZE[0]}x{WARM_UP_SIZE[1]} image.")
    print("  ours/x: median of per-round ratios of time. Box sides are squares: 256, or 1024+512+256.")


def print_quality(quality: dict[str, dict[str, float]], names: list[str]) -> None:
    section("quality: PSNR (dB) against a full decode + LANCZOS, the worst of the three boxes")
    columns = ["ours resize", *names]
    rows = [(source, *(f"{figures[c]:.1f}" if c in figures else "-" for c in columns)) for source, figures in quality.items()]
    print_table(("input", *columns), rows)
    print("  'ours resize' = our pixels before the encoder; the others = the files as written (JPEG")
    print("  q85 costs more than any resize). The floor's nearest-neighbour cut shows what skipping")
    print("  the resampler would cost; it does not rotate either (its EXIF-6 figure). RGBA is")
    print("  compared premultiplied.")


def print_cold_start(folder: Path, corpus: list[Source], runs: int) -> None:
    section(f"cold start: fresh interpreters, {runs} each (ms, median)")
    rows = []
    for source in (s for s in corpus if s.name in ("JPEG 12MP", "PNG 4MP RGBA")):
        cold = measure_cold_start(source.write(folder), runs)
        rows.append((source.name, *(f"{cold[part]:.0f}" for part in ("import", "client", "first"))))
    print_table(("first image", "import create_thumbnail.app", "first S3 client", "first make_thumbnails, box 256"), rows)
    print("  The PNG's first call includes importing pyvips and loading libvips (only a PNG does).")
    print("  Dev-only packages the Lambda runtime lacks (awscrt, pyOpenSSL) are kept out of the import.")


def print_cost(corpus: list[Source], timings: Timings) -> None:
    section("what a thumbnail costs on Lambda arm64 (this host's ms taken as one full vCPU)")
    rows = []
    for source in corpus:
        for sides in (ONE_BOX, THREE_BOXES):
            ms = med(timings[(source.name, sides, "ours")])
            cells = [f"{lambda_ms(ms, mb):.0f} ms ${cost_per_million(lambda_ms(ms, mb), mb):.2f}" for mb in (512, 1024, 1769)]
            rows.append((source.name, "+".join(map(str, sides)), *cells))
    print_table(("input", "boxes", "512 MB", "1024 MB", "1769 MB"), rows)
    print("  Duration scales with the CPU share (1769 MB = 1 vCPU); $ per million images, requests")
    print("  included, imaging only (S3 transfer not counted).")


def print_targets(corpus: list[Source], timings: Timings, peaks: dict, quality: dict) -> None:
    section("targets, as measured in this run")
    by_name = {source.name: source for source in corpus}

    def line(what: str, value: float | None, limit: float, at_most: bool = True) -> None:
        if value is None:
            print(f"  n/a   {what}: not measured")
            return
        held = value <= limit if at_most else value >= limit
        print(f"  {'PASS' if held else 'MISS'}  {what}: {value:.2f} ({'<=' if at_most else '>='} {limit})")

    for name in ("PNG 12MP RGB", "PNG 4MP RGBA"):
        source = by_name[name]
        line(f"{name}, box 256: time / libvips", ratio(timings, source, ONE_BOX, "libvips"), 1.1)
        mine, theirs = peaks.get((name, ONE_BOX, "ours")), peaks.get((name, ONE_BOX, "libvips"))
        line(f"{name}, box 256: peak memory / libvips", mine / theirs if mine and theirs else None, 1.2)
    for name in ("JPEG 12MP", "JPEG 24MP"):
        line(f"{name}, three boxes: time / floor", ratio(timings, by_name[name], THREE_BOXES, "floor"),
             FLOOR_LIMITS[THREE_BOXES])  # fmt: skip
    line("JPEG 12MP, box 256: time / floor", ratio(timings, by_name["JPEG 12MP"], ONE_BOX, "floor"), FLOOR_LIMITS[ONE_BOX])
    line("JPEG 12MP, box 256: time / sharp", ratio(timings, by_name["JPEG 12MP"], ONE_BOX, "sharp"), 1.0)
    line("worst resize PSNR of ours, every input and box (dB)", min(q["ours resize"] for q in quality.values()), 42, False)
