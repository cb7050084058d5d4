"""Which release profile an input file selects: the one place that decides.

``harbor.cfg`` (any name not ending in .yml/.yaml) is Harbor 1.7's format and selects the 1.7.5
profile; ``harbor.yml`` (.yml or .yaml) is Harbor 2.x's and selects the 2.15 profile, its
``_version`` checked by the 2.x validation."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

from harborctl.errors import ConfigError, UsageError

if TYPE_CHECKING:
    from harborctl.config.model import Config
    from harborctl.config.validate import Validation
    from harborctl.config.yml import Config2, Validation2

InputFormat = Literal["harbor.cfg", "harbor.yml"]
YAML_SUFFIXES = (".yml", ".yaml")


def input_format(path: Path) -> InputFormat:
    return "harbor.yml" if Path(path).suffix.lower() in YAML_SUFFIXES else "harbor.cfg"


def check_file(path: Path) -> Validation | Validation2:
    """Read and validate either format; never raises for problems inside the file."""
    if input_format(path) == "harbor.yml":
        from harborctl.config.yml import check_yml

        return check_yml(path)
    from harborctl import config

    return config.check_config(path)


def load_file(path: Path) -> Config | Config2:
    """A valid config of either format; ConfigError listing every problem otherwise."""
    result = check_file(path)
    if result.config is None:
        name = str(path)
        raise ConfigError(f"{name} has {len(result.errors)} problem(s)",
                          problems=tuple(p.format(name) for p in result.problems),
                          hint="fix them and run 'harborctl config check' again")
    return result.config


def data_volume(config: Config | Config2) -> Path:
    from harborctl.config.yml import Config2

    return config.data_volume if isinstance(config, Config2) else config.paths.data_volume


def log_location(config: Config | Config2) -> Path:
    """Where the log service writes one file per service, on the host."""
    from harborctl.config.yml import Config2

    return config.log.location if isinstance(config, Config2) else config.logs.location


def server_certificate(config: object) -> tuple[Path, Path, str] | None:
    """(certificate, key, host name) of an https config of either format, else None."""
    from harborctl.config.model import Config
    from harborctl.config.yml import Config2
    from harborctl.hostport import parse_host_port

    if isinstance(config, Config) and config.address.protocol == "https":
        return config.tls.ssl_cert, config.tls.ssl_cert_key, config.address.hostname
    if isinstance(config, Config2) and config.https is not None:
        host = parse_host_port(config.hostname).host
        return config.https.certificate, config.https.private_key, host
    return None


def check_profile_flags(path: Path, flags: dict[str, bool]) -> None:
    """Flags of the other profile are refused, not ignored: notary, clair and chartmuseum are
    gone from Harbor 2.x; Trivy is 2.x's scanner."""
    yml = input_format(path) == "harbor.yml"
    wrong = [name for name in (("notary", "clair", "chartmuseum", "new_secretkey") if yml
                               else ("trivy",)) if flags.get(name)]
    if wrong:
        flag = "--" + wrong[0].replace("_", "-")
        if not wrong[0].startswith("new_"):
            flag = "--with-" + wrong[0]
        raise UsageError(
            f"{flag} does not apply to {path}: " + (
                "Harbor 2.x has no notary, clair or chartmuseum (--new-secretkey is for "
                "harbor.cfg deployments)" if yml else "Trivy belongs to Harbor 2.x's "
                "harbor.yml; Harbor 1.7 scans with clair (--with-clair)"))


@dataclass(frozen=True)
class PublicAddress:
    """What clients use to reach the registry, whichever file says it (trust's view)."""

    protocol: str
    hostname: str  # without a port
    http_port: int
    https_port: int
    server_cert: Path | None

    @property
    def authority(self) -> str:
        port = self.https_port if self.protocol == "https" else self.http_port
        default = 443 if self.protocol == "https" else 80
        return self.hostname if port == default else f"{self.hostname}:{port}"


def public_address(config: Config | Config2) -> PublicAddress:
    from harborctl.config.yml import Config2
    from harborctl.hostport import parse_host_port

    if not isinstance(config, Config2):
        a = config.address
        cert = config.tls.ssl_cert if a.protocol == "https" else None
        return PublicAddress(a.protocol, a.hostname, a.http_port, a.https_port, cert)
    if config.external_url:  # a proxy in front: clients use its address
        parts = urlsplit(config.external_url)
        https = parts.scheme == "https"
        port = parts.port or (443 if https else 80)
        return PublicAddress(parts.scheme, parts.hostname or "", port if not https else 80,
                             port if https else 443,
                             config.https.certificate if config.https else None)
    parsed = parse_host_port(config.hostname)
    if config.https is not None:
        return PublicAddress("https", parsed.host, config.http_port,
                             parsed.port or config.https.port, config.https.certificate)
    return PublicAddress("http", parsed.host, parsed.port or config.http_port, 443, None)


def refuse_yml_for_17(path: Path) -> None:
    """A harbor.yml reaching the harbor.cfg reader (a caller that did not dispatch on the
    format): say so, before the file is misread as 'key = value' lines."""
    if input_format(path) == "harbor.yml":
        raise UsageError(
            f"{path} is a Harbor 2.x harbor.yml, which the reader of Harbor 1.7's harbor.cfg "
            "cannot read",
            hint="harborctl's commands pick the reader from the file name (.yml/.yaml: "
                 "harbor.yml)")
