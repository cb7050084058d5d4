"""No harbor.cfg key is read and then silently dropped: changing any one of them either changes
what prepare renders, or config check says, on that key, that it has no effect and why."""

from __future__ import annotations

from pathlib import Path

import pytest

from harborctl.config import parse_text, validate
from harborctl.config.keys import DEFAULTS
from harborctl.plan import plan_deployment
from tests.unit.prepare_support import FIXED_SECRETS

PROJECT = Path("/srv/harbor")
BASE = {"hostname": "harbor.example.com", "harbor_admin_password": "Adm1n-pass",
        "db_password": "db-pass-1"}
# A valid value other than the default, where flipping or bumping the default will not do;
# None: no other value exists (harbor_release: one release is supported).
OTHER_VALUE: dict[str, str | None] = {
    "hostname": "other.example.com",
    "ui_url_protocol": "https",
    "auth_mode": "uaa_auth",
    "project_creation_restriction": "adminonly",
    "redis_db_index": "4,5,6",
    "registry_storage_provider_name": "s3",
    "registry_storage_provider_config": "maxthreads: 30",
    "registry_custom_ca_bundle": "",  # copying a file is covered in test_service_inputs.py
    "image_source": "mirror.example.com/goharbor",
    "harbor_release": None,
    "log_rotate_size": "100M",
    "ldap_scope": "1",
    "ldap_group_scope": "1",
    "db_host": "db.example.com",
    "redis_host": "cache.example.com",
    "uaa_ca_cert": "/etc/pki/uaa.pem",
    "ldap_url": "ldaps://other.example.com",
    "admiral_url": "http://admiral.example.com",
    "with_notary": "on",
}
# Keys that need another one to be valid when changed.
COMPANION = {
    "with_notary": "ui_url_protocol = https\n",
    "registry_storage_provider_name": "registry_storage_provider_config = region: r, bucket: b\n",
}


def _other(key: str, default: str) -> str | None:
    if key in OTHER_VALUE:
        return OTHER_VALUE[key]
    if default.lower() in ("on", "true"):
        return "off"
    if default.lower() in ("off", "false"):
        return "on"
    if default.isdigit():
        return str(int(default) + 1)
    if default.startswith("/"):
        return default.rstrip("/") + "-other"
    return "changed-value"


def _render(text: str) -> tuple[dict[str, bytes], list[str]]:
    result = validate(parse_text(text, Path("harbor.cfg")), file_exists=lambda _: True,
                      read_file=lambda path: b"")
    assert result.config is not None, [p.format("harbor.cfg") for p in result.errors]
    deployment = plan_deployment(result.config, FIXED_SECRETS, PROJECT,
                                 server_cert=(b"CERT\n", b"KEY\n"))
    return ({str(f.path): f.content for f in deployment.files},
            [p.key for p in result.warnings])


@pytest.mark.parametrize("key", sorted(DEFAULTS))
def test_a_changed_key_changes_the_output_or_is_reported(key: str) -> None:
    other = _other(key, DEFAULTS[key])
    if other is None or other == DEFAULTS[key]:
        pytest.skip(f"{key} has no other valid value to try here")
    base = "".join(f"{k} = {v}\n" for k, v in BASE.items() if k != key)
    base += COMPANION.get(key, "")
    before, _ = _render(base + (f"{key} = {BASE[key]}\n" if key in BASE else ""))
    after, warnings = _render(base + f"{key} = {other}\n")
    assert after != before or key in warnings, f"{key} = {other} changed nothing, said nothing"
