"""Readers of the larger groups of harbor.cfg: authentication and storage."""

from __future__ import annotations

from pathlib import Path
from typing import cast

from harborctl.config import model as m
from harborctl.config.keys import DEFAULTS
from harborctl.config.operator_files import ReadFile, read_bytes, read_ca_bundle, read_json_key
from harborctl.config.reader import ValueReader

STORAGE_PROVIDERS = ("filesystem", "s3", "gcs", "azure", "swift", "oss")
# What each distribution storage driver refuses to start without.
REQUIRED_STORAGE_OPTIONS = {
    "s3": ("region", "bucket"),
    "gcs": ("bucket",),
    "azure": ("accountname", "accountkey", "container"),
    "swift": ("authurl", "username", "password", "container"),
    "oss": ("accesskeyid", "accesskeysecret", "region", "bucket"),
}
# The filesystem driver's own options; the storage folder is the data volume's registry/.
FILESYSTEM_OPTIONS = ("rootdirectory", "maxthreads")
FILESYSTEM_ROOT = "/storage"


def read_auth(r: ValueReader, read_file: ReadFile = read_bytes) -> m.Auth:
    mode = cast(m.AuthMode, r.choice("auth_mode", ("db_auth", "ldap_auth", "uaa_auth")))
    password = r.text("harbor_admin_password")
    if not password:
        r.error("harbor_admin_password", "must not be empty", "set the first password of 'admin'")
    elif password == DEFAULTS["harbor_admin_password"]:
        r.warn(
            "harbor_admin_password",
            "is the well-known default; anyone can log in as admin",
            "set a password of your own before the first install (it is applied only then)",
        )
    ldap = m.Ldap(
        url=r.text("ldap_url"),
        searchdn=r.text("ldap_searchdn"),
        search_pwd=r.text("ldap_search_pwd"),
        basedn=r.text("ldap_basedn"),
        filter=r.text("ldap_filter"),
        uid=r.text("ldap_uid"),
        scope=r.integer("ldap_scope", 0, 2),
        timeout=r.integer("ldap_timeout", 1, 3600),
        verify_cert=r.boolean("ldap_verify_cert"),
        group_basedn=r.text("ldap_group_basedn"),
        group_filter=r.text("ldap_group_filter"),
        group_gid=r.text("ldap_group_gid"),
        group_scope=r.integer("ldap_group_scope", 0, 2),
        group_admin_dn=r.text("ldap_group_admin_dn"),
    )
    if mode == "ldap_auth" and not ldap.url.startswith(("ldap://", "ldaps://")):
        r.error("ldap_url", f"{ldap.url!r} is not an ldap:// or ldaps:// URL",
                "auth_mode = ldap_auth needs the address of the LDAP server")
    uaa = m.Uaa(
        endpoint=r.text("uaa_endpoint"),
        clientid=r.text("uaa_clientid"),
        clientsecret=r.text("uaa_clientsecret"),
        verify_cert=r.boolean("uaa_verify_cert"),
        ca_cert=_read_uaa_ca(r, read_file) if mode == "uaa_auth" else None,
    )
    return m.Auth(
        mode=mode,
        admin_password=password,
        self_registration=r.boolean("self_registration"),
        token_expiration=r.integer("token_expiration", 1, 60 * 24 * 365),
        project_creation_restriction=cast(
            m.CreationRestriction,
            r.choice("project_creation_restriction", ("everyone", "adminonly")),
        ),
        ldap=ldap,
        uaa=uaa,
    )


def _read_uaa_ca(r: ValueReader, read_file: ReadFile) -> m.OperatorFile | None:
    """Harbor's example file names /path/to/ca.pem: that placeholder, like an empty value, means
    no CA of its own (the system's roots verify the UAA server)."""
    if r.text("uaa_ca_cert") == DEFAULTS["uaa_ca_cert"]:
        return None
    path = r.absolute_path("uaa_ca_cert", optional=True)
    return read_ca_bundle(r, "uaa_ca_cert", path, read_file)


def read_storage(r: ValueReader, read_file: ReadFile = read_bytes) -> m.Storage:
    provider = r.choice("registry_storage_provider_name", STORAGE_PROVIDERS)
    raw_config = r.text("registry_storage_provider_config")
    options: dict[str, str] = {}
    items = [part.strip() for part in raw_config.split(",")]
    for position, pair in enumerate(filter(None, items), start=1):
        key, sep, value = pair.partition(":")
        if not sep or not key.strip() or not value.strip():
            # Named by position only: the text may be a credential, or a piece of one that held
            # a ','; it must not reach the terminal or --json.
            r.error(
                "registry_storage_provider_config",
                f"option {position} is not a 'key: value' pair",
                "write the driver's options as 'key1: value1, key2: value2' (a value cannot "
                "hold ',')",
            )
            continue
        options[key.strip()] = value.strip()
    if provider != "filesystem" and not options and raw_config == "":
        r.error(
            "registry_storage_provider_config",
            f"storage provider {provider!r} needs its options",
            "give the driver's options, e.g. for s3: 'region: us-east-1, bucket: harbor'",
        )
    missing = [name for name in REQUIRED_STORAGE_OPTIONS.get(provider, ()) if not options.get(name)]
    if missing and options:
        r.error("registry_storage_provider_config",
                f"{provider} storage needs {', '.join(missing)}",
                "see the distribution registry's documentation of the driver's options")
    if provider == "filesystem":
        _check_filesystem_options(r, options)
    ca_path = r.absolute_path("registry_custom_ca_bundle", optional=True)
    return m.Storage(
        provider=cast(m.StorageProvider, provider),
        provider_config=options,
        custom_ca_bundle=read_ca_bundle(r, "registry_custom_ca_bundle", ca_path, read_file),
        gcs_key=_read_gcs_key(r, options, read_file) if provider == "gcs" else None,
    )


def _read_gcs_key(r: ValueReader, options: dict[str, str], read_file: ReadFile
                  ) -> m.OperatorFile | None:
    keyfile = options.get("keyfile")
    if not keyfile:
        return None  # the instance's own service account
    if not keyfile.startswith("/"):
        r.error("registry_storage_provider_config",
                f"keyfile {keyfile!r} is a relative path; give an absolute one")
        return None
    return read_json_key(r, "registry_storage_provider_config", Path(keyfile), read_file)


def _check_filesystem_options(r: ValueReader, options: dict[str, str]) -> None:
    key = "registry_storage_provider_config"
    for name in options:
        if name not in FILESYSTEM_OPTIONS:
            r.warn(key, f"the filesystem driver has no option {name!r}; it is ignored",
                   f"its options are {', '.join(FILESYSTEM_OPTIONS)}")
    threads = options.get("maxthreads")
    if threads is not None and not threads.isdigit():
        r.error(key, f"maxthreads {threads!r} is not a whole number; the registry would not start")
    elif threads is not None and int(threads) < 25:
        r.warn(key, f"maxthreads {threads} is below the registry's minimum; it uses 25")
    root = options.get("rootdirectory")
    if root is not None and not (root == FILESYSTEM_ROOT or root.startswith(FILESYSTEM_ROOT + "/")):
        r.error(key, f"rootdirectory {root!r} is outside {FILESYSTEM_ROOT}, where the data "
                "volume's registry/ folder is mounted: images stored there would be lost "
                "with the container", f"use {FILESYSTEM_ROOT} or a folder below it")
