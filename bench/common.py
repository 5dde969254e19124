"""Shared helpers for the benchmarks: timing loops, percentiles and a local Serve instance."""

from __future__ import annotations

import os
import socket
import statistics
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import numpy as np
from rich.progress import Progress


def stats(latencies_ms: list[float], wall_s: float) -> dict:
    q = np.percentile(latencies_ms, [50, 99])
    return {"n": len(latencies_ms), "p50_ms": round(float(q[0]), 1), "p99_ms": round(float(q[1]), 1),
            "mean_ms": round(statistics.fmean(latencies_ms), 1), "req_per_s": round(len(latencies_ms) / wall_s, 2)}


def timed(fn: Callable[[], object], n: int, concurrency: int, label: str, bar: Progress) -> dict:
    """Call ``fn`` ``n`` times from ``concurrency`` threads; latency stats and throughput."""
    task = bar.add_task(label, total=n)

    def one(_):
        t0 = time.perf_counter()
        fn()
        bar.advance(task)
        return (time.perf_counter() - t0) * 1000

    t0 = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        lat = list(pool.map(one, range(n)))
    return stats(lat, time.perf_counter() - t0)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def local_serve(console):
    """Bootstrap a throw-away store, start Ray Serve on a free port, yield the base URL, stop."""
    from serving import app as serving_app
    from serving import store
    from serving.config import load_config
    from training.bootstrap import bootstrap

    os.environ["VERISERVE_HOME"] = tempfile.mkdtemp(prefix="veriserve-bench-")
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    bootstrap(store.configure())
    cfg = load_config()
    cfg.http.port = free_port()
    with console.status("starting Ray Serve…"):
        serving_app.start(cfg)
    try:
        yield f"http://127.0.0.1:{cfg.http.port}"
    finally:
        serving_app.stop()
