"""What backup and restore read and write of a deployment, whichever release profile it is.

One record (``BackupTarget``) says, for a harbor.cfg (Harbor 1.7.5) or a harbor.yml (Harbor
2.15) deployment: the config's member in the archive, the data volume, the secret files (from
``secrets.secret_paths`` / ``plan.v2.secret_paths_v2``, the same tables prepare writes), the
certificate files and whether a bundled database is there to dump. backup.py and restore.py
only read this record; the profile is picked once, by ``config.inputs.input_format``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from harborctl.config.inputs import input_format
from harborctl.config.model import Config
from harborctl.config.yml.model import Config2
from harborctl.errors import ConfigError, RestoreRefusedError

DB_SERVICE = "postgresql"
INTERNAL_TLS = "certs/internal_tls/"  # Harbor 2.x: internal_tls.dir's files, by name


def config_member(config_path: Path) -> str:
    """The archive member of the config file: ``config/harbor.cfg`` or ``config/harbor.yml``."""
    return "config/" + input_format(config_path)


CONFIG_MEMBERS = ("config/harbor.cfg", "config/harbor.yml")


@dataclass(frozen=True)
class BackupTarget:
    config: Config | Config2
    release: str
    config_member: str
    data_volume: Path
    hostname: str
    services: tuple[str, ...]  # the services the config enables
    components: dict[str, bool]  # the optional components, as the header records them
    storage_provider: str
    external_database: str | None  # its host, when the database is not bundled
    secrets: dict[str, Path]  # archive name (without "secrets/") -> file
    certs: dict[str, Path]  # archive name (without "certs/") -> file
    secret_roots: tuple[Path, ...]  # the folders restore may create for secrets

    @property
    def bundled_database(self) -> bool:
        return DB_SERVICE in self.services

    def files(self) -> dict[str, Path]:
        """Every secret and certificate member's file, by archive name."""
        found = {f"secrets/{name}": path for name, path in self.secrets.items()}
        found.update({f"certs/{name}": path for name, path in self.certs.items()})
        return found


def certificate_files(config: Config) -> dict[str, Path]:
    """Harbor 1.7: the server pair and the CA beside it (``gencert`` writes them together)."""
    if config.address.protocol != "https":
        return {}
    cert, key = config.tls.ssl_cert, config.tls.ssl_cert_key
    return {"server.crt": cert, "server.key": key, "ca.crt": cert.parent / "ca.crt",
            "ca.key": cert.parent / "ca.key"}


def certificate_files_v2(config: Config2) -> dict[str, Path]:
    """Harbor 2.x: the server pair at the paths harbor.yml names with the CA beside it, and
    with internal TLS every file of internal_tls.dir (prepare copies them into
    data_volume/secret/tls)."""
    files: dict[str, Path] = {}
    if config.https is not None:
        cert = config.https.certificate
        files.update({"server.crt": cert, "server.key": config.https.private_key,
                      "ca.crt": cert.parent / "ca.crt", "ca.key": cert.parent / "ca.key"})
    if config.internal_tls is not None:
        tls = INTERNAL_TLS[len("certs/"):]
        files.update({tls + name: config.internal_tls.dir / name
                      for name, _file in config.internal_tls.files})
    return files


def target_of(config: Config | Config2) -> BackupTarget:
    from harborctl.plan.releases import profile_of

    profile = profile_of(config)
    services = tuple(s.name for s in profile.enabled(config))
    if isinstance(config, Config2):
        from harborctl.plan.v2 import secret_paths_v2

        return BackupTarget(
            config, config.release, "config/harbor.yml", config.data_volume, config.hostname,
            services, {"trivy": config.with_trivy}, config.storage.driver,
            config.database.host if config.database.external else None,
            secret_paths_v2(config), certificate_files_v2(config), (config.data_volume,))
    from harborctl.secrets import secret_paths

    return BackupTarget(
        config, profile.release, "config/harbor.cfg", config.paths.data_volume,
        config.address.hostname, services,
        {"notary": config.components.notary, "clair": config.components.clair,
         "chartmuseum": config.components.chartmuseum},
        config.storage.provider,
        None if config.database.bundled else config.database.host,
        secret_paths(config), certificate_files(config),
        (config.paths.secretkey_path, config.paths.data_volume))


def load_target(config_path: Path, project_dir: Path) -> BackupTarget:
    """The deployment of ``config_path`` as install reads it (the components an earlier run
    enabled included)."""
    if input_format(config_path) == "harbor.yml":
        from harborctl.prepare_v2 import load_v2_for_prepare

        return target_of(load_v2_for_prepare(config_path, project_dir).config)
    from harborctl.prepare import load_for_prepare

    return target_of(load_for_prepare(config_path, project_dir).config)


def is_2x(release: str) -> bool:
    return not release.startswith("1.")


def refuse_other_profile(release: str, members: Mapping[str, bytes] | None,
                         config_path: Path, archive: Path) -> None:
    """A 2.x archive restores only to a harbor.yml, a 1.7 archive only to a harbor.cfg: the
    other profile's reader cannot read the archived config, nor put its secrets in place."""
    wanted = config_member(config_path)
    if members is None and not release:
        return  # a header that names no release: the archived config member decides
    archived = "config/harbor.yml" if is_2x(release) else "config/harbor.cfg"
    if members is not None:
        archived = next((m for m in CONFIG_MEMBERS if m in members), archived)
    if archived == wanted:
        return
    held = "a Harbor 2.x harbor.yml" if archived.endswith(".yml") else "Harbor 1.7's harbor.cfg"
    given = "a harbor.yml" if wanted.endswith(".yml") else "a harbor.cfg"
    raise RestoreRefusedError(
        f"{archive} is a backup of a Harbor {release or 'unknown'} deployment ({held}), but "
        f"-c {config_path} is {given}: a backup restores only into the release it was taken of",
        hint=f"restore with -c pointing to a {archived[len('config/'):]} path (it is written "
             "from the archive); nothing was changed")


def archived_target(content: Mapping[str, bytes], components: Mapping[str, bool],
                    config_path: Path) -> BackupTarget:
    """The archive's config, validated as if its certificate files existed already (they are
    in the archive; install validates again once they are back)."""
    member = config_member(config_path)
    text = content[member].decode("utf-8", "replace")
    if member.endswith(".yml"):
        return target_of(_archived_yml(text, content, components, config_path))
    from harborctl.config import parse_text, validate

    result = validate(parse_text(text, config_path), file_exists=lambda _path: True,
                      overrides={k: True for k, on in components.items() if on})
    if result.config is None:
        raise _invalid(len(result.errors), result.problems, config_path)
    return target_of(result.config)


def _archived_yml(text: str, content: Mapping[str, bytes], components: Mapping[str, bool],
                  config_path: Path) -> Config2:
    from harborctl.config.yml import parse_yaml_text, validate

    raw = parse_yaml_text(text, config_path)
    tls = {name[len(INTERNAL_TLS):]: data for name, data in content.items()
           if name.startswith(INTERNAL_TLS)}

    def read_file(path: Path) -> bytes:
        """internal_tls.dir's files from the archive (restore puts them back there)."""
        if Path(path).name in tls:
            return tls[Path(path).name]
        return Path(path).read_bytes()

    result = validate(raw, lambda _path: True, read_file, bool(components.get("trivy")))
    if result.config is None:
        raise _invalid(len(result.errors), result.problems, config_path)
    return result.config


def _invalid(count: int, problems: object, config_path: Path) -> ConfigError:
    name = str(config_path)
    return ConfigError(f"the {config_path.name} in the archive has {count} problem(s)",
                       problems=tuple(p.format(name) for p in problems))  # type: ignore[attr-defined]


def prepare_for_restore(config_path: Path, project_dir: Path) -> None:
    """Render the deployment from the config restore put back (secrets are there already)."""
    if input_format(config_path) == "harbor.yml":
        from harborctl.prepare_v2 import load_v2_for_prepare, prepare_v2

        prepare_v2(load_v2_for_prepare(config_path, project_dir), project_dir)
        return
    from harborctl.prepare import load_for_prepare, prepare

    prepare(load_for_prepare(config_path, project_dir), project_dir)
