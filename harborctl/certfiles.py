"""Which certificate files the certificate commands (gencert, trust, certs) work on.

harbor.cfg and the stored secrets say where the files are; this module finds them, reads the
ones it must, and leaves printing to the CLI.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from glob import escape as glob_escape
from pathlib import Path

from harborctl.config import read_config_file
from harborctl.config.inputs import input_format
from harborctl.config.keys import DEFAULTS
from harborctl.config.model import Config
from harborctl.config.reader import ValueReader
from harborctl.config.validate import PLACEHOLDER_HOSTNAME
from harborctl.config.yml.model import Config2
from harborctl.errors import CertificateError, ConfigError, FilesystemError, UsageError
from harborctl.files import folder_lock
from harborctl.files.remove import remove_path
from harborctl.files.safe import make_dirs
from harborctl.gencert import GencertPaths
from harborctl.secrets import secret_paths
from harborctl.tls.reading import CertInfo, certificate_info, describe_chain, load_certificates

# what tempfile.mkstemp appends to the prefix write_file_atomic gives it
_TEMP_SUFFIX = re.compile(r"[a-z0-9_]{8}")

__all__ = [
    "GencertTarget",
    "ListedCertificate",
    "UnreadableCertificate",
    "deployment_certificates",
    "find_ca",
    "gencert_target",
    "read_ca",
    "read_server_certificate",
]

_GENCERT_SETTINGS = ("hostname", "ssl_cert", "ssl_cert_key", "https_port", "ui_url_protocol")


@dataclass(frozen=True)
class GencertTarget:
    """What gencert issues, and where: from ``--hostname``/``--out`` or harbor.cfg."""

    hostname: str  # host[:port]; the port is the https port clients use
    paths: GencertPaths
    config_names_other_files: bool  # --out is not where ssl_cert/ssl_cert_key point
    https_configured: bool  # ui_url_protocol = https already


def _lenient_settings(config_path: Path, out: Path | None) -> dict[str, str]:
    """hostname, ports and certificate paths from harbor.cfg, read without full validation:
    gencert must work while https is configured but the certificate does not exist yet. The
    settings gencert uses must still be valid: raises ``ConfigError`` naming their lines."""
    if input_format(config_path) == "harbor.yml":
        return _lenient_yml_settings(config_path, out)
    reader = ValueReader(read_config_file(config_path))
    reader.port("https_port")
    if out is None:
        for key in ("ssl_cert", "ssl_cert_key"):
            _require_absolute(reader, key, config_path)
    problems = [
        problem.format(str(config_path))
        for problem in reader.problems
        if problem.severity == "error" and problem.key in _GENCERT_SETTINGS
    ]
    if problems:
        raise ConfigError(
            f"{config_path} has {len(problems)} problem(s) in the settings gencert uses",
            problems=tuple(problems),
            hint="fix them and run gencert again ('harborctl config check' lists every problem)",
        )
    return {key: reader.text(key) for key in _GENCERT_SETTINGS}


# harbor.yml's keys for the settings gencert reads, under harbor.cfg's names
_YML_SETTINGS = {"hostname": "hostname", "ssl_cert": "https.certificate",
                 "ssl_cert_key": "https.private_key", "https_port": "https.port"}


def _lenient_yml_settings(config_path: Path, out: Path | None) -> dict[str, str]:
    from harborctl.config.yml import read_yaml_file
    from harborctl.config.yml.reader import YamlReader

    reader = YamlReader(read_yaml_file(config_path))
    port = reader.port("https.port", 443)
    https = reader.block("https")
    if out is None:
        for key, example in (("https.certificate", "/etc/harbor/server.crt"),
                             ("https.private_key", "/etc/harbor/server.key")):
            reader.absolute_path(key, required=True, example=example)
    problems = [p.format(str(config_path)) for p in sorted(reader.problems,
                                                           key=lambda p: p.line or 0)
                if p.severity == "error" and (p.key in _YML_SETTINGS.values() or
                                              p.key.startswith("("))]
    if problems:
        raise ConfigError(
            f"{config_path} has {len(problems)} problem(s) in the settings gencert uses",
            problems=tuple(problems),
            hint="fix them and run gencert again ('harborctl config check' lists every problem)")
    settings = {name: reader.text(key) for name, key in _YML_SETTINGS.items()
                if key != "https.port"}
    return {**{k: v for k, v in settings.items() if v}, "https_port": str(port),
            "ui_url_protocol": "https" if https else "http"}


def _require_absolute(reader: ValueReader, key: str, config_path: Path) -> None:
    # A relative path would be read against the current folder, wherever gencert runs: the CA
    # key and certificates would land there, and prepare refuses relative paths anyway.
    value = reader.text(key)
    if not value:
        reader.error(key, "must not be empty; give an absolute path")
    elif not value.startswith("/"):
        meant = _absolute(config_path).parent / value
        reader.error(
            key,
            f"{value!r} is a relative path; give an absolute one (starting with /)",
            hint=f"{key} = {meant}, if you mean the folder of {config_path.name}",
        )


def gencert_target(config_path: Path, hostname: str | None, out: Path | None) -> GencertTarget:
    """The host name and files gencert works on; ``hostname`` and ``out`` come from the options
    and win over harbor.cfg, which need not exist when ``hostname`` is given."""
    settings = _lenient_settings(config_path, out) if config_path.exists() or not hostname else {}
    host = hostname or settings.get("hostname", "")
    if not host or host == PLACEHOLDER_HOSTNAME or host.startswith(f"{PLACEHOLDER_HOSTNAME}:"):
        raise UsageError(
            "no host name to issue the certificate for",
            hint="set hostname in harbor.cfg, or pass --hostname NAME",
        )
    port = int(settings.get("https_port", "443") or 443)
    # A bare IPv6 address cannot carry a port without brackets; it keeps the default.
    if ":" not in host and port != 443:
        host = f"{host}:{port}"
    configured_cert = Path(settings.get("ssl_cert", DEFAULTS["ssl_cert"]))
    configured_key = Path(settings.get("ssl_cert_key", DEFAULTS["ssl_cert_key"]))
    if out is None:
        cert_path, key_path = configured_cert, configured_key
    else:
        folder = _absolute(out)
        cert_path, key_path = folder / "server.crt", folder / "server.key"
    return GencertTarget(
        hostname=host,
        paths=GencertPaths.beside(cert_path, key_path),
        config_names_other_files=out is not None
        and (
            cert_path != Path(settings.get("ssl_cert", ""))
            or key_path != Path(settings.get("ssl_cert_key", ""))
        ),
        https_configured=settings.get("ui_url_protocol") == "https",
    )


def _absolute(path: Path) -> Path:
    try:
        return path.absolute()
    except FileNotFoundError as exc:  # the folder harborctl runs in was deleted meanwhile
        raise FilesystemError(
            f"cannot tell where {path} is: the current folder no longer exists",
            hint="cd to an existing folder, or give an absolute path",
        ) from exc


def find_ca(server_cert: Path) -> Path:
    """The CA clients must trust for ``server_cert``: ``ca.crt`` beside it (gencert's), or the
    certificate itself when it is self-signed."""
    beside = server_cert.parent / "ca.crt"
    if beside.exists():
        return beside
    try:
        content = server_cert.read_bytes()
    except OSError:
        content = None
    if content is not None:
        what = f"the server certificate file {server_cert}"
        if certificate_info(load_certificates(content, what)[0]).self_signed:
            return server_cert
    raise UsageError(
        f"no CA found beside {server_cert}",
        hint="pass --ca FILE with the certificate of the CA that issued it",
    )


def read_ca(ca_path: Path) -> bytes:
    try:
        return ca_path.read_bytes()
    except IsADirectoryError as exc:
        raise CertificateError(
            f"the CA {ca_path} is a folder, not a file", hint="pass --ca FILE with the CA itself"
        ) from exc
    except OSError as exc:
        raise CertificateError(
            f"cannot read the CA {ca_path}: {exc.strerror}",
            hint="run 'harborctl gencert', or pass --ca FILE",
        ) from exc


def read_server_certificate(cert_path: Path) -> bytes:
    """The server certificate file's bytes, which trust checks the CA against."""
    try:
        return cert_path.read_bytes()
    except OSError as exc:
        raise CertificateError(
            f"cannot read the server certificate {cert_path} ({exc.strerror}), so cannot check "
            "which CA issued it",
            hint="point ssl_cert in harbor.cfg at it, or create one with 'harborctl gencert'",
        ) from exc


@dataclass(frozen=True)
class ListedCertificate:
    role: str  # server, ca, token-signing, notary-signer-ca, notary-signer
    chain_index: int  # 0 for the file's own certificate, then its chain in file order
    path: Path
    info: CertInfo


@dataclass(frozen=True)
class UnreadableCertificate:
    """A certificate file of the deployment that exists but cannot be listed, and why."""

    role: str
    path: Path
    problem: str


def _certificate_files_v2(config: Config2) -> tuple[tuple[str, Path], ...]:
    from harborctl.plan.v2 import secret_paths_v2

    files = [("token-signing", secret_paths_v2(config)["token_cert_pem"])]
    if config.https is not None:
        files = [("server", config.https.certificate),
                 ("ca", config.https.certificate.parent / "ca.crt"), *files]
    if config.internal_tls is not None:
        files += [(f"internal-tls {name[:-4]}", config.internal_tls.dir / name)
                  for name, _ in config.internal_tls.files if name.endswith(".crt")]
    return tuple(files)


def _certificate_files(config: Config | Config2) -> tuple[tuple[str, Path], ...]:
    if isinstance(config, Config2):
        return _certificate_files_v2(config)
    stored = secret_paths(config)
    return (
        ("server", config.tls.ssl_cert),
        ("ca", config.tls.ssl_cert.parent / "ca.crt"),
        ("token-signing", stored["token_cert_pem"]),
        ("notary-signer-ca", stored["notary_ca_cert_pem"]),
        ("notary-signer", stored["notary_signer_cert_pem"]),
    )


def _describe_file(role: str, path: Path) -> list[ListedCertificate] | UnreadableCertificate:
    try:
        content = path.read_bytes()
    except IsADirectoryError:
        return UnreadableCertificate(role, path, f"{path} is a folder, not a file")
    except OSError as exc:
        return UnreadableCertificate(role, path, f"cannot read {path} ({exc.strerror})")
    try:
        chain = describe_chain(content, what=f"the certificate file {path}")
    except CertificateError as exc:
        return UnreadableCertificate(role, path, exc.message)
    return [ListedCertificate(role, index, path, info) for index, info in enumerate(chain)]


def deployment_certificates(
    config: Config | Config2,
) -> Iterator[ListedCertificate | UnreadableCertificate]:
    """Every certificate of the deployment whose file exists, one file after the other; a file
    that cannot be read is reported in its turn and the listing goes on."""
    for role, path in _certificate_files(config):
        if not (path.exists() or path.is_symlink()):
            continue
        described = _describe_file(role, path)
        if isinstance(described, UnreadableCertificate):
            yield described
        else:
            yield from described


@contextlib.contextmanager
def certificate_folder_lock(paths: GencertPaths) -> Iterator[None]:
    """One gencert per certificate folder at a time, from reading what is there to writing: two
    at once used to leave one run's key beside the other's certificate, both saying success."""
    folder = paths.ca_cert.parent
    make_dirs(folder, folder)
    with folder_lock(folder, f"the certificate folder {folder}"):
        _remove_interrupted_writes(paths)
        yield


def _remove_interrupted_writes(paths: GencertPaths) -> None:
    """A gencert killed mid-write leaves its temporary copy (``.server.key.k3j9x_2a``): a key
    nobody would ever clean up. Under the lock no other writer owns one, so they go."""
    names = {p.name for p in (paths.server_cert, paths.server_key, paths.ca_cert, paths.ca_key)}
    for folder in {paths.server_cert.parent, paths.server_key.parent, paths.ca_cert.parent}:
        for name in names:
            for leftover in folder.glob(f".{glob_escape(name)}.*"):
                if _TEMP_SUFFIX.fullmatch(leftover.name[len(name) + 2:]) and (
                        leftover.is_file() and not leftover.is_symlink()):
                    remove_path(leftover)
