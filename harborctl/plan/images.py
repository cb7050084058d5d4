"""The image of every service, from the release and the image source (Docker Hub or a mirror)."""

from __future__ import annotations

from harborctl.config.model import Images

# service -> (repository, tag pattern); {r} is the Harbor release.
_IMAGES = {
    "log": ("harbor-log", "v{r}"),
    "registry": ("registry-photon", "v2.6.2-v{r}"),
    "registryctl": ("harbor-registryctl", "v{r}"),
    "postgresql": ("harbor-db", "v{r}"),
    "adminserver": ("harbor-adminserver", "v{r}"),
    "core": ("harbor-core", "v{r}"),
    "portal": ("harbor-portal", "v{r}"),
    "jobservice": ("harbor-jobservice", "v{r}"),
    "redis": ("redis-photon", "v{r}"),
    "proxy": ("nginx-photon", "v{r}"),
    "notary-server": ("notary-server-photon", "v0.6.1-v{r}"),
    "notary-signer": ("notary-signer-photon", "v0.6.1-v{r}"),
    "clair": ("clair-photon", "v2.0.8-v{r}"),
    "chartmuseum": ("chartmuseum-photon", "v0.8.1-v{r}"),
}


def image_for(service: str, images: Images) -> str:
    repository, tag = _IMAGES[service]
    return f"{images.source}/{repository}:{tag.format(r=images.release)}"


def all_images(images: Images) -> dict[str, str]:
    return {service: image_for(service, images) for service in _IMAGES}
