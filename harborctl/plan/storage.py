"""The storage of images and charts, from harbor.cfg's registry_storage_provider_name and
registry_storage_provider_config (the distribution registry's driver options).

Harbor stores charts next to the images. With object storage the charts must land in the
same bucket (not on the host), so the driver's options are mapped onto chartmuseum's backend
and the credential variables its cloud SDKs read.
"""

from __future__ import annotations

from collections.abc import Mapping

from harborctl.config.model import Storage
from harborctl.config.sections import FILESYSTEM_OPTIONS, FILESYSTEM_ROOT

LOCAL_CHART_ROOT = "/chart_storage"
# Where the containers find common/config/chartserver/ and registry/ (a gcs key is copied to both).
CHARTSERVER_DIR = "/etc/chartserver"
REGISTRY_DIR = "/etc/registry"
GCS_KEY_NAME = "gcs.key"
AZURE_CHART_PREFIX = "/azure/harbor/charts"

# provider -> (chartmuseum's backend, ((variable, registry option), ...)); a variable whose
# option is not set is left out, so the SDK falls back to its own defaults (an IAM role...).
_BACKENDS: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {
    "s3": ("amazon", (
        ("STORAGE_AMAZON_BUCKET", "bucket"),
        ("STORAGE_AMAZON_PREFIX", "rootdirectory"),
        ("STORAGE_AMAZON_REGION", "region"),
        ("STORAGE_AMAZON_ENDPOINT", "regionendpoint"),
        ("AWS_ACCESS_KEY_ID", "accesskey"),
        ("AWS_SECRET_ACCESS_KEY", "secretkey"),
    )),
    "gcs": ("google", (
        ("STORAGE_GOOGLE_BUCKET", "bucket"),
        ("STORAGE_GOOGLE_PREFIX", "rootdirectory"),
    )),
    "azure": ("microsoft", (
        ("STORAGE_MICROSOFT_CONTAINER", "container"),
        ("AZURE_STORAGE_ACCOUNT", "accountname"),
        ("AZURE_STORAGE_ACCESS_KEY", "accountkey"),
    )),
    "swift": ("openstack", (
        ("STORAGE_OPENSTACK_CONTAINER", "container"),
        ("STORAGE_OPENSTACK_PREFIX", "prefix"),
        ("STORAGE_OPENSTACK_REGION", "region"),
        ("OS_AUTH_URL", "authurl"),
        ("OS_USERNAME", "username"),
        ("OS_PASSWORD", "password"),
        ("OS_PROJECT_NAME", "tenant"),
        ("OS_PROJECT_ID", "tenantid"),
        ("OS_DOMAIN_NAME", "domain"),
        ("OS_DOMAIN_ID", "domainid"),
    )),
    "oss": ("alibaba", (
        ("STORAGE_ALIBABA_BUCKET", "bucket"),
        ("STORAGE_ALIBABA_PREFIX", "rootdirectory"),
        ("ALIBABA_CLOUD_ACCESS_KEY_ID", "accesskeyid"),
        ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "accesskeysecret"),
    )),
}


def chart_storage_env(storage: Storage) -> tuple[tuple[str, str], ...]:
    """chartserver/env's storage variables, in a fixed order."""
    if storage.provider == "filesystem":
        return (("STORAGE", "local"), ("STORAGE_LOCAL_ROOTDIR", LOCAL_CHART_ROOT))
    backend, variables = _BACKENDS[storage.provider]
    options = storage.provider_config
    env = [("STORAGE", backend)]
    env += [(name, options[option]) for name, option in variables if options.get(option)]
    if storage.provider == "azure":
        # Where Harbor's installer has always put them: an existing deployment's charts stay
        # found (the azure driver of 1.7's registry has no root directory to follow).
        env.append(("STORAGE_MICROSOFT_PREFIX", AZURE_CHART_PREFIX))
    if storage.provider == "oss":
        env.append(("STORAGE_ALIBABA_ENDPOINT", _oss_endpoint(options)))
    if storage.provider == "gcs" and storage.gcs_key is not None:
        env.append(("GOOGLE_APPLICATION_CREDENTIALS", f"{CHARTSERVER_DIR}/{GCS_KEY_NAME}"))
    return tuple(env)


def _oss_endpoint(options: Mapping[str, str]) -> str:
    """The registry's oss driver takes an endpoint or derives it from the region; chartmuseum
    needs it spelt out."""
    if options.get("endpoint"):
        return options["endpoint"]
    internal = options.get("internal", "").lower() == "true"
    return f"{options.get('region', '')}{'-internal' if internal else ''}.aliyuncs.com"


def registry_storage_options(storage: Storage) -> tuple[tuple[str, str], ...]:
    """The options of the registry's storage driver (config.yml's storage.<provider>)."""
    options = storage.provider_config
    if storage.provider == "filesystem":
        # /storage is where the data volume's registry/ is mounted; a folder below it may be
        # chosen, and maxthreads tuned, as Harbor allowed.
        kept = {"rootdirectory": FILESYSTEM_ROOT}
        kept.update((k, v) for k, v in options.items() if k in FILESYSTEM_OPTIONS)
        return tuple(kept.items())
    if storage.provider == "gcs" and storage.gcs_key is not None:
        # The key's host path does not exist in the container: the copy beside config.yml does.
        return tuple((k, f"{REGISTRY_DIR}/{GCS_KEY_NAME}" if k == "keyfile" else v)
                     for k, v in options.items())
    return tuple(options.items())
