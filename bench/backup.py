"""Benchmark: `harborctl backup` and `restore` side by side with the raw floor on the same data,
each done by hand the way an operator without harborctl would.

    python -m bench.backup [--gib 1] [--rounds 2]

Needs root, a running Docker engine and the goharbor test images. Blobs are random files written
straight into the registry's storage (incompressible, as image layers are). Prints throughput
(archive MiB/s) and the peak memory (max RSS) of harborctl at two data sizes: memory must not
grow with the data.

- backup floor: `pg_dumpall` inside the db container, then `tar -c` of the same folders and the
  dump, fsync'd.
- restore floor: `tar -x` of that archive, `sync`, then the dump loaded by `psql` inside a db
  container of the same image (started beforehand, not timed). harborctl's restore is timed
  until its data and database are back ("Starting the rest"; starting the other services is not
  counted), once as it is and once without starting its database container (which the floor
  does not count). Both archives are dropped from the page cache before each restore.
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
RAW_DUMP = "raw-dump.sql"
RAW_DB = f"harborbench-rawdb-{os.getpid()}"


def timed(args: list[str], env: dict[str, str] | None = None, stdout: int | None = None,
          until: str | None = None) -> tuple[float, int, dict[str, float]]:
    """Run ``args``; return (seconds, max RSS in KiB, when each stderr line first appeared).
    With ``until``, the time is taken when that text first appears on stderr (the process still
    runs to its end)."""
    start = time.monotonic()
    process = subprocess.Popen(args, env=env, stdout=stdout or subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    seen = None
    lines: dict[str, float] = {}
    for line in process.stderr:
        lines.setdefault(line.strip(), time.monotonic() - start)
        if until is not None and seen is None and until in line:
            seen = time.monotonic() - start
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.monotonic() - start
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({process.returncode}):\n"
                           + "\n".join(lines)[-2000:])
    return (seen if seen is not None else elapsed), usage.ru_maxrss, lines


def evict(path: Path) -> None:
    """``path`` on disk and out of the page cache: the next read comes from the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


class Site:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.project = root / PROJECT
        self.cfg = write_site_config(self.project, root)
        self.env = {**os.environ, "PYTHONPATH": str(REPOSITORY)}
        self.blobs = root / "data/registry/docker/registry/v2/blobs/sha256"
        self.written = 0

    def harborctl(self, *args: str, until: str | None = None
                  ) -> tuple[float, int, dict[str, float]]:
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
        dump = self.root / RAW_DUMP
        with open(dump, "wb") as handle:
            subprocess.run(["docker", "exec", "harbor-db", "sh", "-c",
                            'PGPASSWORD="$POSTGRES_PASSWORD" pg_dumpall --clean --if-exists '
                            "-h 127.0.0.1 -U postgres"], stdout=handle, check=True)
        data = self.root / "data"
        folders = [f for f in ("registry", "chart_storage") if (data / f).is_dir()]
        subprocess.run(["tar", "-cf", str(out), "-C", str(data), *folders, "-C", str(self.root),
                        dump.name], check=True)
        with open(out, "rb+") as handle:
            os.fsync(handle.fileno())
        return time.monotonic() - start

    def raw_restore(self, archive: Path) -> float:
        """The floor, by hand: `tar -x`, sync, then psql loads the dump into a new database
        server of the same image (started and ready before the clock starts)."""
        image = subprocess.run(["docker", "inspect", "--format", "{{.Config.Image}}",
                                "harbor-db"], capture_output=True, text=True,
                               check=True).stdout.strip()
        subprocess.run(["docker", "rm", "-f", RAW_DB], capture_output=True, check=False)
        subprocess.run(["docker", "run", "-d", "--name", RAW_DB, "--label", "harborctl.test=1",
                        "-e", "POSTGRES_PASSWORD=Bench-db1", image], capture_output=True,
                       check=True)
        for _ in range(120):
            health = subprocess.run(["docker", "inspect", "--format", "{{.State.Health.Status}}",
                                     RAW_DB], capture_output=True, text=True, check=False)
            if health.stdout.strip() == "healthy":
                break
            time.sleep(0.5)
        else:
            raise RuntimeError(f"{RAW_DB} did not become healthy")
        target = self.root / "raw-restore"
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir()
        evict(archive)
        start = time.monotonic()
        subprocess.run(["tar", "-xf", str(archive), "-C", str(target)], check=True)
        os.sync()
        with open(target / RAW_DUMP, "rb") as dump:
            subprocess.run(["docker", "exec", "-i", RAW_DB, "sh", "-c",
                            'PGPASSWORD="$POSTGRES_PASSWORD" psql -h 127.0.0.1 -U postgres '
                            "-d postgres -q -X -o /dev/null"], stdin=dump,
                           stderr=subprocess.DEVNULL, check=True)
        seconds = time.monotonic() - start
        shutil.rmtree(target)
        subprocess.run(["docker", "rm", "-f", RAW_DB], capture_output=True, check=False)
        return seconds

    def restore(self, archive: Path) -> tuple[float, float, int]:
        """harborctl's restore after `down --purge-data`: (seconds until its data and database
        are back, the part of it spent starting the database container, max RSS)."""
        self.harborctl("down", "--purge-data", "--yes")
        evict(archive)
        seconds, rss, lines = self.harborctl("restore", str(archive), until="Starting the rest")
        db_start = lines["Loading the database dump"] - lines["Starting the database alone"]
        return seconds, db_start, rss


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
    archives: list[tuple[Path, Path]] = []
    try:
        site.harborctl("install")
        for size in (int(args.gib * (1 << 30)) // 4, int(args.gib * (1 << 30))):
            site.fill(size)
            ours, raw, memory = [], [], []
            archive = root / f"backup-{size >> 20}.tar"
            raw_archive = root / f"raw-{size >> 20}.tar"
            for _ in range(args.rounds):
                for path in (archive, raw_archive):
                    path.unlink(missing_ok=True)
                seconds, rss, _ = site.harborctl("backup", "-o", str(archive))
                ours.append(seconds)
                memory.append(rss)
                raw.append(site.raw_backup(raw_archive))
            archives.append((archive, raw_archive))
            size_ours, size_raw = archive.stat().st_size, raw_archive.stat().st_size
            rows.append(f"| backup, {site.written >> 20} MiB of blobs | "
                        f"{mib_per_s(size_ours, statistics.median(ours)):.0f} MiB/s | "
                        f"{mib_per_s(size_raw, statistics.median(raw)):.0f} MiB/s | "
                        f"{statistics.median(raw) / statistics.median(ours):.2f} | "
                        f"{max(memory) >> 10} MiB |")
        for archive, raw_archive in archives:
            restored, db_starts, raw_restored, memory = [], [], [], []
            for _ in range(args.rounds):
                seconds, db_start, rss = site.restore(archive)
                restored.append(seconds)
                db_starts.append(db_start)
                memory.append(rss)
                raw_restored.append(site.raw_restore(raw_archive))
            ours_s, raw_s = statistics.median(restored), statistics.median(raw_restored)
            without = ours_s - statistics.median(db_starts)
            blobs = archive.name[len("backup-"):-len(".tar")]
            size_ours, size_raw = archive.stat().st_size, raw_archive.stat().st_size
            rows.append(f"| restore, {blobs} MiB of blobs (data and database back) | "
                        f"{mib_per_s(size_ours, ours_s):.0f} MiB/s | "
                        f"{mib_per_s(size_raw, raw_s):.0f} MiB/s | {raw_s / ours_s:.2f} | "
                        f"{max(memory) >> 10} MiB |")
            rows.append(f"| restore, {blobs} MiB, without starting the db container "
                        f"({statistics.median(db_starts):.1f} s) | "
                        f"{mib_per_s(size_ours, without):.0f} MiB/s | "
                        f"{mib_per_s(size_raw, raw_s):.0f} MiB/s | {raw_s / without:.2f} | |")
    finally:
        subprocess.run(["docker", "rm", "-f", RAW_DB], capture_output=True, check=False)
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
