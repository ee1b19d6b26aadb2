"""Soak: many warm invocations of the real handler in one process, through moto's S3 over HTTP.
Prints figures, asserts nothing.

    .venv/bin/python benchmarks/soak_bench.py [--invocations 500] [--megapixels 2]

What it shows:
  1. memory: the process's RSS after the first 20 invocations and after all of them (a warm
     Lambda environment lives for hours: anything kept per invocation, in our code, Pillow,
     boto3 or Powertools, shows as drift), and the peak (VmHWM);
  2. throughput: invocations and thumbnails per second, with latency percentiles;
  3. the duplicate check's cost: a fresh upload pays one HeadObject that answers 404, a
     re-delivered event pays one HeadObject per box instead of GET + decode + PUT.

moto runs in a child process, so its in-memory buckets (500 sources, 1000 thumbnails) are not
counted in the function's RSS; every request still crosses a loopback socket. Each invocation
is one S3 record, as S3 sends them, for a distinct key; sources are photo-like JPEGs (80%) and
RGBA PNGs (20%) from the project's generator, a handful of distinct images reused under many keys.
Logs and EMF metrics are produced as in Lambda and written to a byte-counting sink.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import multiprocessing
import os
import sys
import time
from pathlib import Path
from typing import Any

from measure import loadavg, med  # benchmarks/: a script's own folder is on sys.path
from report import section

SIZES = "256x256,1024x1024"


def status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise KeyError(field)


class CountingSink(io.TextIOBase):
    def __init__(self) -> None:
        self.chars = 0
        self.lines = 0

    def write(self, text: str) -> int:
        self.chars += len(text)
        self.lines += text.count("\n")
        return len(text)


def serve_moto(ready: Any, stop: Any) -> None:
    """Child process: moto's server on a free port, until told to stop."""
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    ready.send(server.get_host_and_port())
    stop.wait()
    server.stop()


def sources(megapixels: float) -> list[tuple[str, bytes]]:
    from local_run.inputs.samples import encode, photo

    width = int((megapixels * 1e6 * 4 / 3) ** 0.5)
    size = (width, width * 3 // 4)
    jpegs = [(".jpg", encode(photo(size, seed=seed), "JPEG", quality=90)) for seed in range(4)]
    rgba = photo(size, seed=9)
    rgba.putalpha(rgba.convert("L"))
    return jpegs + [(".png", encode(rgba, "PNG"))]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invocations", type=int, default=500)
    parser.add_argument("--megapixels", type=float, default=2.0, help="source size (default 2 MP)")
    args = parser.parse_args()

    import boto3
    from local_run.inputs.s3_events import put_event, put_record
    from local_run.shared import LOCAL_AWS_ENV, LocalContext, environment

    images = sources(args.megapixels)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {loadavg()}; {args.invocations} invocations, "
          f"boxes {SIZES}; sources: " + ", ".join(f"{suffix} {len(data) / 1e6:.1f} MB" for suffix, data in images))

    spawn = multiprocessing.get_context("spawn")
    parent, child = spawn.Pipe()
    stop = spawn.Event()
    moto = spawn.Process(target=serve_moto, args=(child, stop), daemon=True)
    moto.start()
    host, port = parent.recv()
    endpoint = f"http://{host}:{port}"
    env = {
        **LOCAL_AWS_ENV, "AWS_ENDPOINT_URL": endpoint, "DESTINATION_BUCKET": "soak-resized",
        "THUMBNAIL_SIZES": SIZES, "POWERTOOLS_SERVICE_NAME": "create-thumbnail", "POWERTOOLS_LOG_LEVEL": "INFO",
    }  # fmt: skip
    try:
        with environment(env):
            s3 = boto3.client("s3")
            for bucket in ("soak-source", "soak-resized"):
                s3.create_bucket(Bucket=bucket)
            events = []
            # 1 in 5 is a PNG (the last image); the rest cycle through the JPEGs.
            for n in range(args.invocations):
                suffix, data = images[-1] if n % 5 == 4 else images[n % (len(images) - 1)]
                key = f"soak/{n:05d}{suffix}"
                s3.put_object(Bucket="soak-source", Key=key, Body=data)
                head = s3.head_object(Bucket="soak-source", Key=key)
                events.append(put_event(put_record("soak-source", key, head["ContentLength"], head["ETag"])))
            run(events, s3, LocalContext)
    finally:
        stop.set()
        moto.join(timeout=10)
    return 0


def run(events: list[dict], s3: Any, context: Any) -> None:
    from create_thumbnail import app

    sink = CountingSink()
    app.logger.registered_handler.setStream(sink)
    ms: list[float] = []
    kinds: dict[str, list[float]] = {}
    thumbnails = 0
    rss_at: dict[int, float] = {}
    started = time.perf_counter()
    with contextlib.redirect_stdout(sink):  # EMF lines
        for n, event in enumerate(events, start=1):
            t0 = time.perf_counter()
            reply = app.lambda_handler(event, context())
            ms.append((time.perf_counter() - t0) * 1000)
            kinds.setdefault(Path(event["Records"][0]["s3"]["object"]["key"]).suffix, []).append(ms[-1])
            if reply["created"] != 1:
                raise RuntimeError(f"invocation {n} did not create thumbnails: {reply}")
            thumbnails += len(reply["records"][0]["thumbnails"])
            if n in (1, 20, 100, 250) or n == len(events):
                rss_at[n] = status_mb("VmRSS")
    elapsed = time.perf_counter() - started
    after20 = rss_at[20]
    section(f"soak: {len(events)} warm invocations")
    print("  RSS (MB) after invocation " + ", ".join(f"{n}: {mb:.1f}" for n, mb in sorted(rss_at.items())))
    print(f"  drift after the first 20: {rss_at[len(events)] - after20:+.1f} MB over "
          f"{len(events) - 20} invocations; peak (VmHWM) {status_mb('VmHWM'):.1f} MB")
    print(f"  throughput: {len(events) / elapsed:.1f} invocations/s, {thumbnails / elapsed:.1f} thumbnails/s "
          f"({elapsed:.1f} s in all, single thread)")
    print(f"  latency ms: median {med(ms):.1f}, p90 {percentile(ms, 0.9):.1f}, "
          f"p99 {percentile(ms, 0.99):.1f}, max {max(ms):.1f}")
    for kind, values in sorted(kinds.items()):
        print(f"    {kind} ({len(values)}): median {med(values):.1f}, p90 {percentile(values, 0.9):.1f}, "
              f"p99 {percentile(values, 0.99):.1f}")
    print(f"  log + EMF output: {sink.lines} lines, {sink.chars / len(events):.0f} chars per invocation")
    duplicate_cost(events, s3, context, sink)


def duplicate_cost(events: list[dict], s3: Any, context: Any, sink: CountingSink, runs: int = 60) -> None:
    """Interleaved, same keys: a fresh upload (thumbnails deleted first) vs the same event again."""
    from create_thumbnail import app
    from create_thumbnail.storage import S3Storage, s3_client

    storage = S3Storage(s3_client())
    runs = min(runs, len(events))
    fresh, duplicate, head_404, head_200 = [], [], [], []
    with contextlib.redirect_stdout(sink):
        for event in events[:runs]:
            key = event["Records"][0]["s3"]["object"]["key"]
            thumbnail_keys = [f"{box}/{key}" for box in SIZES.split(",")]
            for thumbnail in thumbnail_keys:
                s3.delete_object(Bucket="soak-resized", Key=thumbnail)
            t0 = time.perf_counter()
            storage.metadata("soak-resized", thumbnail_keys[-1])
            head_404.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            app.lambda_handler(event, context())
            fresh.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            reply = app.lambda_handler(event, context())
            duplicate.append((time.perf_counter() - t0) * 1000)
            if reply["duplicate"] != 1:
                raise RuntimeError(f"re-delivery was not a duplicate: {reply}")
            t0 = time.perf_counter()
            storage.metadata("soak-resized", thumbnail_keys[-1])
            head_200.append((time.perf_counter() - t0) * 1000)
    section(f"the duplicate check, {runs} keys, medians (moto on loopback: real S3 adds its network latency)")
    print(f"  HeadObject answering 404 (what every fresh upload pays): {med(head_404):.2f} ms "
          f"= {100 * med(head_404) / med(fresh):.1f}% of a fresh invocation ({med(fresh):.1f} ms)")
    print(f"  HeadObject answering 200: {med(head_200):.2f} ms")
    print(f"  re-delivered event (2 HEADs, no GET/decode/PUT): {med(duplicate):.1f} ms, "
          f"{med(fresh) / med(duplicate):.0f}x cheaper than making the thumbnails again")
    print("  request price (S3 Standard, us-east-1): HEAD is billed as a GET, $0.0004 per 1,000:")
    print("  $0.40 per million uploads for the fresh-upload check; a duplicate saves a GET ($0.0004/1k),")
    print("  two PUTs ($0.005/1k each) and the decode's compute.")


if __name__ == "__main__":
    raise SystemExit(main())
