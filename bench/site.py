"""The deployment every benchmark measures: one harbor.cfg of the test images, its data, logs
and secret key under the benchmark's own temporary root."""

from __future__ import annotations

import socket
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
PROJECT = "harbor"
FRESH_DATA = ("database", "redis", "registry", "job_logs")  # emptied before each fresh install


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("0.0.0.0", 0))
        return int(sock.getsockname()[1])


def write_site_config(project: Path, root: Path) -> Path:
    """``project``/harbor.cfg (the folder is made) with a free http port; returns its path."""
    project.mkdir(parents=True)
    cfg = project / "harbor.cfg"
    cfg.write_text(
        f"hostname = harbor.bench.test\nhttp_port = {free_port()}\n"
        "harbor_admin_password = Bench-pass1\ndb_password = Bench-db1\n"
        f"data_volume = {root}/data\nsecretkey_path = {root}/data\nlog_location = {root}/log\n")
    return cfg
