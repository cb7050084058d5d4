"""The whole rendered tree for a few configs, compared with reviewed golden files.

Regenerate with `pytest tests/unit/test_golden.py --update-golden` and review the diff."""

from __future__ import annotations

from pathlib import Path

import pytest

from harborctl.config import parse_text, validate
from harborctl.plan import plan_deployment
from tests import yaml_load as yaml
from tests.unit.golden_support import golden_tree
from tests.unit.prepare_support import FIXED_SECRETS

GOLDEN = Path(__file__).parent / "golden"
FAKE_CA = (Path(__file__).parent / "data" / "example-ca.pem").read_bytes()  # a real CA cert
PROJECT = Path("/srv/harbor")
BASE = ("hostname = harbor.example.com\nharbor_admin_password = Adm1n-pass\n"
        "db_password = db-pass-1\n")
CASES = {
    "http": "",
    "https": "ui_url_protocol = https\nhttps_port = 8443\n",
    "all-components": ("ui_url_protocol = https\nwith_notary = on\nwith_clair = on\n"
                       "with_chartmuseum = on\n"),
    "external-db-redis": ("db_host = db.example.com\ndb_port = 5433\n"
                          "redis_host = cache.example.com\nredis_password = r3d!s\n"
                          "redis_db_index = 4,5,6\n"),
    "s3": ("registry_storage_provider_name = s3\nregistry_storage_provider_config = "
           "region: eu-west-1, bucket: harbor-images, secure: true, chunksize: 5242880, "
           "accesskey: AKIAEXAMPLE, secretkey: s3-secret\nwith_chartmuseum = on\n"),
    "gcs": ("registry_storage_provider_name = gcs\nregistry_storage_provider_config = "
            "bucket: harbor-gcs, keyfile: /etc/harbor/gcs.json, rootdirectory: /harbor\n"
            "with_chartmuseum = on\n"),
    "azure": ("registry_storage_provider_name = azure\nregistry_storage_provider_config = "
              "accountname: harborstore, accountkey: YXp1cmUta2V5, container: harbor\n"
              "with_chartmuseum = on\n"),
    "custom-ca": ("registry_storage_provider_name = s3\nregistry_storage_provider_config = "
                  "region: us-east-1, bucket: b, regionendpoint: https://minio.example.com\n"
                  "registry_custom_ca_bundle = /etc/harbor/ca-bundle.pem\n"
                  "with_clair = on\nwith_chartmuseum = on\nclair_db_password = db-pass-1\n"),
    "uaa": ("auth_mode = uaa_auth\nuaa_endpoint = uaa.example.com\nuaa_clientid = harbor\n"
            "uaa_clientsecret = uaa-secret\nuaa_ca_cert = /etc/harbor/uaa-ca.pem\n"),
    "external-db-notary-clair": ("ui_url_protocol = https\ndb_host = db.example.com\n"
                                 "with_notary = on\nwith_clair = on\n"
                                 "clair_db_password = clair-pass\n"),
}
# The files the cases name, as validation reads them.
OPERATOR_FILES = {
    "/etc/harbor/gcs.json": b'{"type": "service_account", "project_id": "example"}\n',
    "/etc/harbor/ca-bundle.pem": FAKE_CA,
    "/etc/harbor/uaa-ca.pem": FAKE_CA,
}


def render_case(text: str) -> dict[str, bytes]:
    result = validate(parse_text(BASE + text, Path("harbor.cfg")), file_exists=lambda _: True,
                      read_file=lambda path: OPERATOR_FILES[str(path)])
    assert result.config is not None, result.problems
    deployment = plan_deployment(result.config, FIXED_SECRETS, PROJECT,
                                 server_cert=(b"CERT\n", b"KEY\n"))
    files = {}
    for planned in deployment.files:
        if planned.path.is_relative_to(PROJECT):
            files[str(planned.path.relative_to(PROJECT))] = planned.content
    return files


@pytest.mark.parametrize("case", sorted(CASES))
def test_rendered_tree_matches_golden(case: str, request: pytest.FixtureRequest) -> None:
    files = render_case(CASES[case])
    expected = golden_tree(GOLDEN / case, files, request)
    assert sorted(files) == sorted(expected)
    for name, content in files.items():
        assert content.decode() == expected[name].decode(), name


@pytest.mark.parametrize("case", sorted(CASES))
def test_harborctls_own_engine_reads_every_rendered_compose_file(case: str) -> None:
    """The engine refuses a compose key it does not apply: a profile field it does not know yet
    (clair's cpu_quota) must not reach a rendered file."""
    from harborctl.engine.compose.loader import load_compose

    compose = render_case(CASES[case])["docker-compose.yml"]
    project = load_compose(PROJECT / "docker-compose.yml", "harbor", {}, compose.decode())
    assert [s.name for s in project.services] == list(yaml.safe_load(compose)["services"])
