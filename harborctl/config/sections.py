"""Readers of the larger groups of harbor.cfg: authentication and storage."""

from __future__ import annotations

from typing import cast

from harborctl.config import model as m
from harborctl.config.keys import DEFAULTS
from harborctl.config.reader import ValueReader

STORAGE_PROVIDERS = ("filesystem", "s3", "gcs", "azure", "swift", "oss")


def read_auth(r: ValueReader) -> m.Auth:
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
        ca_cert=r.absolute_path("uaa_ca_cert", optional=True) if mode == "uaa_auth" else None,
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


def read_storage(r: ValueReader) -> m.Storage:
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
    return m.Storage(
        provider=cast(m.StorageProvider, provider),
        provider_config=options,
        custom_ca_bundle=r.absolute_path("registry_custom_ca_bundle", optional=True),
    )
