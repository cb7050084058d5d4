"""A registry mirror on loopback for the mirror tests (test fixtures): the distribution registry
of Debian (`docker-registry serve`) with an optional htpasswd login, and a TCP proxy in front of
it that cuts one connection mid-transfer."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

REGISTRY_BINARY = "/usr/bin/docker-registry"


def bcrypt_hash(password: str) -> str:
    """A bcrypt hash for htpasswd, from the C library's crypt (no htpasswd program, no bcrypt
    package; Python's own crypt module is gone in 3.13)."""
    name = ctypes.util.find_library("crypt") or "libcrypt.so.1"
    libcrypt = ctypes.CDLL(name)
    libcrypt.crypt.restype = ctypes.c_char_p
    libcrypt.crypt_gensalt.restype = ctypes.c_char_p
    salt = libcrypt.crypt_gensalt(b"$2b$", 10, None, 0)
    hashed = libcrypt.crypt(password.encode(), salt)
    if not hashed or not hashed.startswith(b"$2b$"):
        raise RuntimeError("the C library's crypt cannot make bcrypt hashes")
    return str(hashed.decode())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def local_registry(folder: Path, users: dict[str, str] | None = None) -> Iterator[int]:
    """Run a distribution registry on 127.0.0.1:PORT storing in ``folder``; yield PORT."""
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    auth = ""
    if users:
        htpasswd = folder / "htpasswd"
        htpasswd.write_text("".join(f"{u}:{bcrypt_hash(p)}\n" for u, p in users.items()))
        auth = f"auth:\n  htpasswd:\n    realm: mirror\n    path: {htpasswd}\n"
    config = folder / "config.yml"
    config.write_text(
        "version: 0.1\nlog:\n  level: warn\n"
        f"storage:\n  filesystem:\n    rootdirectory: {folder / 'data'}\n"
        f"http:\n  addr: 127.0.0.1:{port}\n" + auth)
    log = (folder / "registry.log").open("wb")
    process = subprocess.Popen([REGISTRY_BINARY, "serve", str(config)], stdout=log,
                               stderr=subprocess.STDOUT)
    try:
        _wait_until_answering(f"http://127.0.0.1:{port}/v2/", process)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _wait_until_answering(url: str, process: subprocess.Popen[bytes]) -> None:
    for _ in range(200):
        if process.poll() is not None:
            raise RuntimeError(f"the registry exited with {process.returncode}")
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except urllib.error.HTTPError:
            return  # 401: up, and asking for a login
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"the registry never answered on {url}")


class CuttingProxy:
    """Forwards 127.0.0.1:port to the registry; once ``armed``, the next connection with a GET of
    a path holding ``path_part`` is cut after ``cut_after`` bytes of the registry's answer.

    The engine tries TLS first on a loopback registry and falls back to http: only connections
    that start with an http method count.
    """

    def __init__(self, target_port: int, cut_after: int, path_part: str = "/manifests/") -> None:
        self.target_port = target_port
        self.cut_after = cut_after
        self.path_part = path_part.encode()
        self.armed = False  # set to cut the next matching transfer, once
        self.cuts = 0
        self.connections = 0
        self._lock = threading.Lock()
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.port = int(self._listener.getsockname()[1])
        self._stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self._stopped = True
        self._listener.close()

    def _accept(self) -> None:
        while not self._stopped:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        with self._lock:
            self.connections += 1
        try:
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
        except OSError:
            client.close()
            return
        state = {"armed": False}

        def requests() -> None:  # client -> registry; arms the cut on the request that matches
            with contextlib.suppress(OSError):
                while chunk := client.recv(65536):
                    if chunk.startswith(b"GET ") and self.path_part in chunk.split(b"\r\n")[0]:
                        with self._lock:
                            if self.armed and not state["armed"]:
                                self.armed = False
                                state["armed"] = True
                    upstream.sendall(chunk)
            with contextlib.suppress(OSError):
                upstream.shutdown(socket.SHUT_WR)

        threading.Thread(target=requests, daemon=True).start()
        sent = 0
        try:
            while chunk := upstream.recv(65536):
                if state["armed"]:
                    room = self.cut_after - sent
                    if room <= len(chunk):
                        client.sendall(chunk[:max(room, 0)])
                        self._reset(client)
                        return
                    sent += len(chunk)
                client.sendall(chunk)
        except OSError:
            pass
        finally:
            upstream.close()
            with contextlib.suppress(OSError):
                client.close()

    def _reset(self, client: socket.socket) -> None:
        with self._lock:
            self.cuts += 1
        # shutdown, not only close: the other thread's recv on this socket would keep it open.
        with contextlib.suppress(OSError):
            client.shutdown(socket.SHUT_RDWR)
        client.close()


