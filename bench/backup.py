"""Benchmark: `harborctl backup` and `restore` side by side with the raw floor on the same data
(the dump taken by hand with pg_dumpall inside the db container, and tar of the same folders).

    python -m bench.backup [--gib 1] [--rounds 2]

Needs root, a running Docker engine and the goharbor test images. Blobs are random files written
straight into the registry's storage (incompressible, as image layers are). Prints throughput
(archive MiB/s) and the peak memory (max RSS) of harborctl at two data sizes: the second must not
grow with the data. harborctl's restore is timed until its data is back ("Starting the rest"),
so that starting the services is not counted; the raw floor is `tar -x` of the raw archive.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.site import write_site_config

REPOSITORY = Path(__file__).resolve().parents[1]
PROJECT = "harborbench"
FILE_SIZE = 32 << 20
HARBOR_UID = 10000


def timed(args: list[str], env: dict[str, str] | None = None, stdout: int | None = None,
          until: str | None = None) -> tuple[float, int, str]:
    """Run ``args``; return (seconds, max RSS in KiB, stderr). With ``until``, the time is taken
    when that text first appears on stderr (the process still runs to its end)."""
    start = time.monotonic()
    process = subprocess.Popen(args, env=env, stdout=stdout or subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    seen = None
    lines = []
    for line in process.stderr:
        lines.append(line)
        if until is not None and seen is None and until in line:
            seen = time.monotonic() - start
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.monotonic() - start
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({process.returncode}):\n"
                           + "".join(lines)[-2000:])
    return (seen if seen is not None else elapsed), usage.ru_maxrss, "".join(lines)


class Site:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.project = root / PROJECT
        self.cfg = write_site_config(self.project, root)
        self.env = {**os.environ, "PYTHONPATH": str(REPOSITORY)}
        self.blobs = root / "data/registry/docker/registry/v2/blobs/sha256"
        self.written = 0

    def harborctl(self, *args: str, until: str | None = None) -> tuple[float, int, str]:
        return timed([sys.executable, "-m", "harborctl", args[0], "-c", str(self.cfg),
                      *args[1:]], env=self.env, until=until)

    def fill(self, total: int) -> None:
        """Random blob files until ``total`` bytes are in the registry's storage."""
        while self.written < total:
            digest = os.urandom(32).hex()
            folder = self.blobs / digest[:2] / digest
            folder.mkdir(parents=True, exist_ok=True)
            with open(folder / "data", "wb") as handle:
                for _ in range(FILE_SIZE >> 20):
                    handle.write(os.urandom(1 << 20))
            for path in (folder / "data", folder, folder.parent):
                os.chown(path, HARBOR_UID, HARBOR_UID)
            self.written += FILE_SIZE

    def raw_backup(self, out: Path) -> float:
        """The floor, by hand: pg_dumpall inside the container, then tar of the same folders."""
        start = time.monotonic()
        dump = self.root / "raw-dump.sql"
        with open(dump, "wb") as handle:
            subprocess.run(["docker", "exec", "harbor-db", "sh", "-c",
                            'PGPASSWORD="$POSTGRES_PASSWORD" pg_dumpall -h 127.0.0.1 '
                            "-U postgres"], stdout=handle, check=True)
        data = self.root / "data"
        folders = [f for f in ("registry", "chart_storage") if (data / f).is_dir()]
        subprocess.run(["tar", "-cf", str(out), "-C", str(data), *folders, "-C", str(self.root),
                        dump.name], check=True)
        with open(out, "rb+") as handle:
            os.fsync(handle.fileno())
        return time.monotonic() - start


def mib_per_s(size: int, seconds: float) -> float:
    return size / (1 << 20) / seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gib", type=float, default=1.0, help="blob data at the large size")
    parser.add_argument("--rounds", type=int, default=2, help="alternated runs per measure")
    args = parser.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="harborctl-bench-backup-"))
    site = Site(root)
    rows: list[str] = []
    try:
        site.harborctl("install")
        for size in (int(args.gib * (1 << 30)) // 4, int(args.gib * (1 << 30))):
            site.fill(size)
            ours, raw, memory = [], [], []
            archive, raw_archive = root / "backup.tar", root / "raw.tar"
            for _ in range(args.rounds):
                for path in (archive, raw_archive):
                    path.unlink(missing_ok=True)
                seconds, rss, _ = site.harborctl("backup", "-o", str(archive))
                ours.append(seconds)
                memory.append(rss)
                raw.append(site.raw_backup(raw_archive))
            size_ours, size_raw = archive.stat().st_size, raw_archive.stat().st_size
            rows.append(f"| backup, {site.written >> 20} MiB of blobs | "
                        f"{mib_per_s(size_ours, statistics.median(ours)):.0f} MiB/s | "
                        f"{mib_per_s(size_raw, statistics.median(raw)):.0f} MiB/s | "
                        f"{statistics.median(raw) / statistics.median(ours):.2f} | "
                        f"{max(memory) >> 10} MiB |")
        restored, raw_restored, memory = [], [], []
        for _ in range(args.rounds):
            site.harborctl("down", "--purge-data", "--yes")
            seconds, rss, _ = site.harborctl("restore", str(archive), until="Starting the rest")
            restored.append(seconds)
            memory.append(rss)
            target = root / "raw-restore"
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir()
            start = time.monotonic()
            subprocess.run(["tar", "-xf", str(raw_archive), "-C", str(target)], check=True)
            os.sync()
            raw_restored.append(time.monotonic() - start)
            shutil.rmtree(target)
        ours_rate = mib_per_s(archive.stat().st_size, statistics.median(restored))
        raw_rate = mib_per_s(raw_archive.stat().st_size, statistics.median(raw_restored))
        rows.append(f"| restore, {site.written >> 20} MiB of blobs (to data back) | "
                    f"{ours_rate:.0f} MiB/s | {raw_rate:.0f} MiB/s | "
                    f"{statistics.median(raw_restored) / statistics.median(restored):.2f} | "
                    f"{max(memory) >> 10} MiB |")
    finally:
        subprocess.run([sys.executable, "-m", "harborctl", "down", "-c", str(site.cfg)],
                       env=site.env, capture_output=True, check=False)
        shutil.rmtree(root, ignore_errors=True)
    print("| step | harborctl | raw floor | harborctl / floor (throughput) | harborctl max RSS |")
    print("|---|---|---|---|---|")
    for row in rows:
        print(row)
    return 0


if __name__ == "__main__":
    sys.exit(main())
