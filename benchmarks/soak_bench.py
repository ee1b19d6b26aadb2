"""Soak: many warm invocations of the real handler in one process, through moto's S3 over HTTP.
Prints figures, asserts nothing.

    .venv/bin/python benchmarks/soak_bench.py [--invocations 500] [--megapixels 2] [--request-keys 20]

What it shows:
  1. memory: the process's RSS after the first 20 invocations and after all of them (a warm
     Lambda environment lives for hours: anything kept per invocation, in our code, Pillow,
     boto3 or Powertools, shows as drift), and the peak (VmHWM);
  2. throughput: invocations and thumbnails per second, with latency percentiles;
  3. a re-delivered event against a fresh upload of the same key (thumbnails and manifest
     deleted first), and what one HeadObject takes on moto;
  4. the S3 requests each kind of event sends, counted on the wire, and their price: a fresh
     upload, the same event again, an overwrite (new bytes, same key), a delete of a key that
     has thumbnails, and that delete again; for the soak's boxes and for one box, with the
     manifest, and for one box without it (what the manifest's PUT costs).

How requests are counted: a botocore `before-send` hook on the function's own S3 client (the
one app.wiring() builds, so the harness's setup requests are not counted) records each HTTP
request as it is sent: its method, its operation, whether the source, the manifest or which
box's thumbnail it names, and its If-Match / If-None-Match; `response-received` adds the
status. before-send fires once per attempt, so a retry counts, as S3 bills it (a 4xx answer
such as a 404 is billed; a 5xx is not, and is priced at nothing here). Prices are S3 Standard's
list prices (us-east-1): PUT, COPY, POST and LIST $0.005 per 1,000; GET, HEAD and every other
request $0.0004 per 1,000; DELETE free; data transfer to a function in the same region is free.
Which requests are sent is the code's doing, not moto's, so the counts hold for S3; the times
beside them are moto's on loopback.

It also runs against a checkout from before the function reconciled keys (whose Storage port
named its HEAD `metadata()`), put first on PYTHONPATH, for before-and-after figures. Events
carry a sequencer that grows with each operation on a key, as S3's do (that code compared it).

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
import os
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from emulator import moto_in_child
from measure import loadavg, med  # benchmarks/: a script's own folder is on sys.path
from report import print_table, section

SIZES = "256x256,1024x1024"
SOURCE, RESIZED = "soak-source", "soak-resized"
# S3 Standard request prices, us-east-1, $ per request. DELETE (and CANCEL) requests are free.
PUT_CLASS = 0.005 / 1000  # PUT, COPY, POST, LIST
GET_CLASS = 0.0004 / 1000  # GET, HEAD and all other requests
# Lambda compute of a 12 MP JPEG on arm64 at 1024 MB, $ per million: given as about $0.8 (the
# derivation from the imaging time is in docs/performance.md, "Memory and timeout").
LAMBDA_JPEG_PER_MILLION = 0.8
# What each kind of event is, and the status the reply must give it for its count to mean that.
KINDS = {
    "fresh upload": "created",
    "re-delivered upload": "duplicate",
    "overwrite": "created",
    "delete": "removed",
    "re-delivered delete": "skipped",
}
# (THUMBNAIL_SIZES, THUMBNAIL_MANIFEST) of each request count
REQUEST_CONFIGS = ((SIZES, True), ("256x256", True), ("256x256", False))
METHODS = ("GET", "HEAD", "PUT", "DELETE")


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
    parser.add_argument("--request-keys", type=int, default=20, help="keys per request count (default 20)")
    args = parser.parse_args()

    images = sources(args.megapixels)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {loadavg()}; {args.invocations} invocations, "
          f"boxes {SIZES}; sources: " + ", ".join(f"{suffix} {len(data) / 1e6:.1f} MB" for suffix, data in images))

    with moto_in_child() as endpoint:
        soak(endpoint, images, args)
    return 0


def soak(endpoint: str, images: list[tuple[str, bytes]], args: argparse.Namespace) -> None:
    import boto3
    from local_run.inputs.s3_events import put_event, put_record
    from local_run.shared import LOCAL_AWS_ENV, LocalContext, environment

    env = {
        **LOCAL_AWS_ENV, "AWS_ENDPOINT_URL": endpoint, "DESTINATION_BUCKET": "soak-resized",
        "THUMBNAIL_SIZES": SIZES, "THUMBNAIL_MANIFEST": "true", "POWERTOOLS_SERVICE_NAME": "create-thumbnail", "POWERTOOLS_LOG_LEVEL": "INFO",
    }  # fmt: skip
    with environment(env):
        s3 = boto3.client("s3")
        for bucket in (SOURCE, RESIZED):
            s3.create_bucket(Bucket=bucket)
        events = []
        # 1 in 5 is a PNG (the last image); the rest cycle through the JPEGs.
        for n in range(args.invocations):
            suffix, data = images[-1] if n % 5 == 4 else images[n % (len(images) - 1)]
            key = f"soak/{n:05d}{suffix}"
            s3.put_object(Bucket=SOURCE, Key=key, Body=data)
            head = s3.head_object(Bucket=SOURCE, Key=key)
            events.append(put_event(put_record(SOURCE, key, head["ContentLength"], head["ETag"])))
        run(events, s3, LocalContext)
        jpegs = [data for suffix, data in images if suffix == ".jpg"]
        request_costs(s3, LocalContext, jpegs[0], jpegs[1], args.request_keys)
        print(f"\nload at the end: {loadavg()}")


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
    print(f"  load after the soak: {loadavg()}")
    duplicate_cost(events, s3, context, sink)


def duplicate_cost(events: list[dict], s3: Any, context: Any, sink: CountingSink, runs: int = 60) -> None:
    """Interleaved, same keys: a fresh upload (its thumbnails and manifest deleted first) vs
    the same event again; and one HeadObject, answering 404 and 200, through the adapter."""
    from create_thumbnail import app
    from create_thumbnail.manifest import manifest_key
    from create_thumbnail.storage import S3Storage, s3_client

    head = head_request(S3Storage(s3_client()))
    runs = min(runs, len(events))
    fresh, duplicate, head_404, head_200 = [], [], [], []
    with contextlib.redirect_stdout(sink):
        for event in events[:runs]:
            key = event["Records"][0]["s3"]["object"]["key"]
            thumbnail_keys = [f"{box}/{key}" for box in SIZES.split(",")]
            for written in [*thumbnail_keys, manifest_key(key)]:
                s3.delete_object(Bucket=RESIZED, Key=written)
            t0 = time.perf_counter()
            head(RESIZED, thumbnail_keys[-1])
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
            head(RESIZED, thumbnail_keys[-1])
            head_200.append((time.perf_counter() - t0) * 1000)
    section(f"a re-delivered event, {runs} keys, medians (moto on loopback: real S3 adds its network latency)")
    print(f"  fresh upload (thumbnails and manifest deleted first): {med(fresh):.1f} ms")
    print(f"  the same event again (a duplicate: no decode, no PUT): {med(duplicate):.1f} ms, "
          f"{med(fresh) / med(duplicate):.1f}x cheaper than making the thumbnails again")
    print(f"  one HeadObject answering 404: {med(head_404):.2f} ms ({100 * med(head_404) / med(fresh):.1f}% of a "
          f"fresh invocation); answering 200: {med(head_200):.2f} ms")
    print(f"  which requests each sends, and their price: below. load: {loadavg()}")


def head_request(storage: Any) -> Any:
    """The adapter's one HeadObject: head() since the reconcile (427d0b3), metadata() before."""
    return getattr(storage, "head", None) or storage.metadata


# ---- S3 requests per event, counted on the wire -------------------------------------------------


@dataclass(slots=True)
class Sent:
    """One HTTP request the function's S3 client sent."""

    method: str
    operation: str
    target: str  # "source", "manifest", or a thumbnail as box/*.extensions
    condition: str  # "If-Match", "If-None-Match" or ""
    status: int | None = None  # None: no HTTP answer (a connection error)

    @property
    def price(self) -> float:
        if self.method == "DELETE" or (self.status or 0) >= 500:  # S3 bills no 5xx answer
            return 0.0
        if self.method in ("PUT", "POST") or self.operation.startswith("List"):
            return PUT_CLASS
        return GET_CLASS

    def __str__(self) -> str:
        condition = f" {self.condition}" if self.condition else ""
        return f"{self.method} {self.target}{condition} {self.status or 'no answer'}"


class Wire:
    """Records what a client sends, per attempt: see the module's docstring."""

    def __init__(self, client: Any) -> None:
        self._events = client.meta.events
        self._sent: list[Sent] = []
        self._events.register("before-send.s3", self._before_send)
        self._events.register("response-received.s3", self._received)

    def take(self) -> list[Sent]:
        sent, self._sent = self._sent, []
        return sent

    def close(self) -> None:
        self._events.unregister("before-send.s3", self._before_send)
        self._events.unregister("response-received.s3", self._received)

    def _before_send(self, request: Any, event_name: str, **_: Any) -> None:
        condition = next((h for h in ("If-Match", "If-None-Match") if h in request.headers), "")
        self._sent.append(Sent(request.method, event_name.rsplit(".", 1)[-1], target(request.url), condition))

    def _received(self, response_dict: dict | None, **_: Any) -> None:
        if self._sent and response_dict is not None:
            self._sent[-1].status = response_dict["status_code"]


def target(url: str) -> str:
    """moto on 127.0.0.1 is addressed path-style: /bucket/key. A thumbnail as box/*.extensions."""
    bucket, _, key = unquote(urlsplit(url).path).lstrip("/").partition("/")
    if bucket == SOURCE:
        return "source"
    if key.startswith("manifests/"):
        return "manifest"
    if not key:
        return f"bucket {bucket}"
    return f"{key.split('/', 1)[0]}/*{''.join(Path(key).suffixes)}"


def key_lifecycle(s3: Any, key: str, first: bytes, second: bytes, sequencer: int) -> Iterator[tuple[str, dict]]:
    """Yields (kind, event) for one key, doing in S3 what each event announces before it."""
    from local_run.inputs.s3_events import encode_key, load_event, put_event, put_record

    def upload(data: bytes, n: int) -> dict:
        s3.put_object(Bucket=SOURCE, Key=key, Body=data)
        head = s3.head_object(Bucket=SOURCE, Key=key)
        return put_event(put_record(SOURCE, key, head["ContentLength"], head["ETag"], f"{sequencer + n:018X}"))

    created = upload(first, 1)
    yield "fresh upload", created
    yield "re-delivered upload", created
    yield "overwrite", upload(second, 2)
    s3.delete_object(Bucket=SOURCE, Key=key)
    record = load_event("delete.json")["Records"][0]  # ObjectRemoved:Delete, no eTag, no size
    record["s3"]["bucket"].update(name=SOURCE, arn=f"arn:aws:s3:::{SOURCE}")
    record["s3"]["object"] = {"key": encode_key(key), "sequencer": f"{sequencer + 3:018X}"}
    removed = put_event(record)
    yield "delete", removed
    yield "re-delivered delete", removed


def request_costs(s3: Any, context: Any, first: bytes, second: bytes, keys: int) -> None:
    """Each configuration's client is the one the handler's wiring builds for it: the cached
    wiring is cleared around each, so the settings are read again from the environment."""
    from create_thumbnail import app
    from local_run.shared import environment

    store = "head()" if hasattr(app.wiring()[1], "head") else "metadata()"
    code = f"{Path(app.__file__).resolve().parents[1]} (Storage.{store})"
    one_box: dict[bool, float] = {}
    for sizes, manifest in REQUEST_CONFIGS:
        label = f"{sizes.replace(',', '+')}{'' if manifest else '-no-manifest'}"
        with environment({"THUMBNAIL_SIZES": sizes, "THUMBNAIL_MANIFEST": str(manifest).lower()}):
            app.wiring.cache_clear()
            wire = Wire(app.wiring()[1]._client)  # the function's own client: see the docstring
            sent: dict[str, list[list[Sent]]] = {kind: [] for kind in KINDS}
            ms: dict[str, list[float]] = {kind: [] for kind in KINDS}
            try:
                with contextlib.redirect_stdout(CountingSink()):
                    for n in range(keys):
                        events = key_lifecycle(s3, f"requests/{label}/{n:03d}.jpg", first, second, (n + 1) << 32)
                        for kind, event in events:
                            wire.take()
                            t0 = time.perf_counter()
                            reply = app.lambda_handler(event, context())
                            ms[kind].append((time.perf_counter() - t0) * 1000)
                            sent[kind].append(wire.take())
                            status = reply["records"][0]["status"]
                            if status != KINDS[kind]:
                                raise RuntimeError(f"{kind} of {label}/{n}: {status}, not {KINDS[kind]}: {reply}")
            finally:
                wire.close()
                app.wiring.cache_clear()
        cost = print_requests(f"boxes {sizes}, manifest {'on' if manifest else 'off'}", code, keys, sent, ms)
        if sizes == "256x256":
            one_box[manifest] = cost["fresh upload"]
    if set(one_box) == {True, False}:
        print(f"\n  the manifest, one box, a fresh upload: ${one_box[True]:.2f} per million with it, "
              f"${one_box[False]:.2f} without: x{one_box[True] / one_box[False]:.2f}")


def print_requests(title: str, code: str, keys: int, sent: dict[str, list[list[Sent]]],
                   ms: dict[str, list[float]]) -> dict[str, float]:  # fmt: skip
    """One table per configuration; returns $ per million events of each kind."""
    section(f"S3 requests per event, on the wire: {title}; {keys} JPEG keys")
    print(f"  code: {code}; load {loadavg()}")
    every = {request.method for events in sent.values() for event in events for request in event}
    methods = [*METHODS, *sorted(every - set(METHODS))]
    rows, costs, sequences = [], {}, []
    for kind, events in sent.items():
        counts = [Counter(request.method for request in event) for event in events]
        costs[kind] = med([sum(request.price for request in event) for event in events]) * 1e6
        cells = []
        for method in methods:
            low, high = min(c[method] for c in counts), max(c[method] for c in counts)
            cells.append(str(low) if low == high else f"{low}-{high}")
        ratio = f"{costs[kind] / LAMBDA_JPEG_PER_MILLION:.1f}x"
        rows.append((kind, *cells, f"${costs[kind]:.2f}", ratio, f"{med(ms[kind]):.1f}"))
        variants = Counter(", ".join(map(str, event)) for event in events)
        sequences += [f"    {kind}{f' ({n} of {len(events)})' if len(variants) > 1 else ''}: {seq or 'none'}"
                      for seq, n in variants.most_common()]  # fmt: skip
    print_table(("kind", *methods, "$ per million", "of compute", "median ms"), rows)
    print("  in order (status as moto answered):")
    print("\n".join(sequences))
    print(f"  $ at S3 Standard list prices: PUT-class ${PUT_CLASS * 1e6:.2f}, GET-class ${GET_CLASS * 1e6:.2f} per "
          f"million, DELETE free; 'of compute': the event's S3 requests over the Lambda compute of a 12 MP JPEG "
          f"(~${LAMBDA_JPEG_PER_MILLION} per million). Request counts do not depend on the image's size.")
    return costs


if __name__ == "__main__":
    raise SystemExit(main())
