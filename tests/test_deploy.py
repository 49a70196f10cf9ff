"""deploy/nginx.conf in front of two real replicas: every session renders, both replicas serve,
and each browser (route cookie) stays on one replica, websocket included."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import re
import shutil
import subprocess
import tempfile
import time
import urllib.request
from collections import defaultdict
from pathlib import Path

import pytest

from tests.browser import ROOT, free_port, serve_app
from tools.streamlit_session import open_page, page_query

pytestmark = pytest.mark.browser  # serves the site like the browser tests (no Chromium)

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
# One distinctive single-token word per session, so the page's token strip shows it whole.
ANIMALS = ["cat", "dog", "bird", "fish", "horse", "mouse", "lion", "bear"]


def proxy_config(replica_ports: list[int], listen: int, access_log: Path) -> str:
    """deploy/nginx.conf as shipped, pointed at local replicas, a free port and a log of our own."""
    config = (ROOT / "deploy" / "nginx.conf").read_text()
    servers = "".join(f"        server 127.0.0.1:{port};\n" for port in replica_ports)
    config, count = re.subn(r"(        server replica-\d+:8501;\n)+", servers, config)
    assert count == 1, "deploy/nginx.conf no longer has the upstream block this test rewrites"
    config = config.replace("listen 8080;", f"listen 127.0.0.1:{listen};")
    return config.replace("/var/log/nginx/access.log", str(access_log))


@contextlib.contextmanager
def nginx_in_front_of(replica_urls: list[str]):
    ports = [int(url.rsplit(":", 1)[1]) for url in replica_urls]
    with tempfile.TemporaryDirectory() as tmp:
        prefix = Path(tmp)
        prefix.chmod(0o755)
        (prefix / "logs").mkdir()
        listen = free_port()
        access_log = prefix / "access.log"
        (prefix / "nginx.conf").write_text(proxy_config(ports, listen, access_log))
        process = subprocess.Popen(
            [NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf"),
             "-g", f"daemon off; pid {prefix}/nginx.pid; error_log {prefix}/error.log;"],
        )
        url = f"http://127.0.0.1:{listen}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    urllib.request.urlopen(url + "/_stcore/health", timeout=2).close()
                    break
                except OSError:
                    assert process.poll() is None and time.monotonic() < deadline, (
                        (prefix / "error.log").read_text() if (prefix / "error.log").exists() else "nginx died")
                    time.sleep(0.2)
            yield url, access_log
        finally:
            process.terminate()
            process.wait(10)


def test_nginx_spreads_sessions_over_both_replicas_and_keeps_each_on_one(tmp_path):
    assert Path(NGINX).exists(), "nginx is missing: `make test` installs Debian's nginx package"
    with serve_app() as first, serve_app() as second, nginx_in_front_of([first, second]) as (url, log):
        async def crowd():
            warm = [open_page(replica, "softmax", timeout=300) for replica in (first, second)]
            await asyncio.gather(*warm)  # each replica loads the model once before the crowd
            visits = [open_page(url, "softmax", page_query(prompt=f"The {animal} sat on the mat because it"),
                                timeout=300) for animal in ANIMALS]
            return await asyncio.gather(*visits)

        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            visits = pool.submit(asyncio.run, crowd()).result()
        lines = log.read_text().splitlines()

    assert [v.error for v in visits if not v.ok] == []
    for animal, visit in zip(ANIMALS, visits):
        shown = " ".join(visit.texts)
        assert animal in shown and not any(other in shown for other in ANIMALS if other != animal)
    replicas_by_key: dict[str, set[str]] = defaultdict(set)
    sockets_per_replica: dict[str, int] = defaultdict(int)
    for line in lines:
        found = re.search(r'"GET (\S+) [^"]*" (\d+) upstream=(\S+) key=(\S+)', line)
        if found:
            path, _, upstream, key = found.groups()
            replicas_by_key[key].add(upstream)
            sockets_per_replica[upstream] += path.startswith("/_stcore/stream")
    assert sum(sockets_per_replica.values()) == len(ANIMALS)
    assert len([r for r, n in sockets_per_replica.items() if n]) == 2, sockets_per_replica
    assert all(len(upstreams) == 1 for upstreams in replicas_by_key.values()), replicas_by_key
