"""moto's S3 server in a child process, for the benchmarks that drive the handler over HTTP: its
in-memory buckets are not counted in the function's memory, and every request still crosses a
loopback socket, as on Lambda it crosses the network."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def _serve(ready: Any, stop: Any) -> None:
    """Child process: moto's server on a free port, until told to stop."""
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    ready.send(server.get_host_and_port())
    stop.wait()
    server.stop()


@contextmanager
def moto_in_child() -> Iterator[str]:
    """Yields the server's endpoint (http://127.0.0.1:PORT); stops it on the way out."""
    spawn = multiprocessing.get_context("spawn")
    parent, child = spawn.Pipe()
    stop = spawn.Event()
    moto = spawn.Process(target=_serve, args=(child, stop), daemon=True)
    moto.start()
    host, port = parent.recv()
    try:
        yield f"http://{host}:{port}"
    finally:
        stop.set()
        moto.join(timeout=10)
