"""One Ray Serve application for every HTTP suite in this folder (starting it takes minutes on 2 cores)."""

from __future__ import annotations

import socket

import httpx
import pytest

MAX_BODY = 8 * 1024 * 1024


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="package")
def base_url(tmp_path_factory):
    from serving import app as serving_app
    from serving import store
    from serving.config import load_config
    from training.bootstrap import bootstrap

    mp = pytest.MonkeyPatch()
    mp.setenv("VERISERVE_HOME", str(tmp_path_factory.mktemp("serve_home")))
    mp.delenv("MLFLOW_TRACKING_URI", raising=False)
    bootstrap(store.configure())
    cfg = load_config()
    cfg.http.port = _free_port()
    cfg.http.max_body_bytes = MAX_BODY
    cfg.ray.num_cpus = 2
    serving_app.start(cfg)
    yield f"http://127.0.0.1:{cfg.http.port}"
    serving_app.stop()
    mp.undo()


@pytest.fixture(scope="package")
def http(base_url):
    with httpx.Client(base_url=base_url, timeout=60) as client:
        yield client


