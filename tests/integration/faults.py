"""A small HTTP proxy in front of moto's server that breaks chosen requests on the wire.

moto has no fault injection of its own (its /moto-api/ offers state transitions, recordings and
canned results for a few services, nothing that fails an S3 call), and patching botocore would
skip exactly what these tests are about: the SDK's retry mode reading real 503s and 500s, and our
adapter mapping what survives the retries. So the function under test is pointed at this proxy
(AWS_ENDPOINT_URL) and every request it sends crosses a real socket twice: client -> proxy ->
moto. A Fault matches a method and an object key and, for the first `times` matching requests
(every one if None), answers with an S3 error document, drops the connection without an answer,
or waits before passing the request on. Every request is logged with what the client got back.

Requests the proxy does pass on are forwarded whole (the body already read), so moto sees either
the complete request or nothing: a failed PutObject never reaches it.
"""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

# Hop-by-hop headers (RFC 9110 7.6.1) and the ones the proxy recomputes.
_NOT_FORWARDED = {"connection", "keep-alive", "transfer-encoding", "expect", "content-length", "te"}

_ERROR_DOCUMENT = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    "<Error><Code>{code}</Code><Message>{message}</Message><RequestId>fault-{n}</RequestId></Error>"
)


@dataclass
class Fault:
    """What to do to matching requests. status=None with a delay passes the request on late."""

    method: str  # GET, PUT, HEAD
    key: str  # the object key, decoded
    status: int | None = 503
    code: str = "SlowDown"
    message: str = "Please reduce your request rate."
    times: int | None = 1  # None: every matching request
    delay: float = 0.0  # seconds before answering or forwarding
    drop: bool = False  # close the connection without an answer, after reading the request
    hits: int = field(default=0, init=False)

    def matches(self, method: str, key: str) -> bool:
        return method == self.method and key == self.key and (self.times is None or self.hits < self.times)


@dataclass(frozen=True)
class Exchange:
    method: str
    key: str
    status: int | None  # None: the connection was dropped


class FaultProxy:
    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self._upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self.log: list[Exchange] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def statuses(self, method: str, key: str) -> list[int | None]:
        """What the client got for each request of that method on that key, in order."""
        return [e.status for e in self.log if (e.method, e.key) == (method, key)]

    def requests_for(self, key: str) -> list[str]:
        return [e.method for e in self.log if e.key == key]

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _take(self, method: str, key: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, key):
                    fault.hits += 1
                    return fault
        return None

    def _record(self, method: str, key: str, status: int | None) -> None:
        with self._lock:
            self.log.append(Exchange(method, key, status))

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as botocore's connection pool expects

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - base signature
                """Quiet: the proxy's own log is the test's evidence."""

            def _handle(self) -> None:
                body = self._read_body()
                key = _object_key(self.path)
                fault = proxy._take(self.command, key)
                if fault and fault.delay:
                    time.sleep(fault.delay)
                if fault and fault.drop:
                    proxy._record(self.command, key, None)
                    self.close_connection = True
                    return
                if fault and fault.status is not None:
                    proxy._record(self.command, key, fault.status)
                    self._answer_error(fault)
                    return
                status, headers, payload = self._forward(body)
                proxy._record(self.command, key, status)
                self.send_response(status)
                for name, value in headers:
                    if name.lower() not in _NOT_FORWARDED:
                        self.send_header(name, value)
                if self.command == "HEAD":  # the object's length, with no body to follow
                    length = next((v for n, v in headers if n.lower() == "content-length"), "0")
                    self.send_header("Content-Length", length)
                    self.end_headers()
                    return
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_PUT = do_HEAD = do_POST = do_DELETE = _handle  # noqa: N815 - http.server's names

            def _read_body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    chunks = []
                    while size := int(self.rfile.readline().split(b";")[0], 16):
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _forward(self, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
                connection = http.client.HTTPConnection(*proxy._upstream, timeout=30)
                try:
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in _NOT_FORWARDED}
                    if body or self.command in ("PUT", "POST"):
                        headers["Content-Length"] = str(len(body))
                    connection.request(self.command, self.path, body=body, headers=headers)
                    response = connection.getresponse()
                    return response.status, response.getheaders(), response.read()
                finally:
                    connection.close()

            def _answer_error(self, fault: Fault) -> None:
                payload = b""
                if self.command != "HEAD":  # S3 answers HEAD errors with headers only
                    payload = _ERROR_DOCUMENT.format(code=fault.code, message=fault.message, n=fault.hits).encode()
                self.send_response(fault.status or 500)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        return Handler


def _object_key(path: str) -> str:
    """'/bucket/a%20b.jpg?x=1' -> 'a b.jpg' (path-style addressing, as botocore uses for an IP
    endpoint); '' for a request on the bucket itself."""
    parts = unquote(urlsplit(path).path).lstrip("/").split("/", 1)
    return parts[1] if len(parts) == 2 else ""


@contextmanager
def fault_proxy(upstream: str) -> Iterator[FaultProxy]:
    proxy = FaultProxy(upstream)
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.stop()
