"""The image of every service, from the release profile and the image source (Docker Hub or a
mirror)."""

from __future__ import annotations

from harborctl.config.model import Images
from harborctl.plan.releases import profile_for


def image_for(service: str, images: Images) -> str:
    return profile_for(images.release).image(service, images.source)


def all_images(images: Images) -> dict[str, str]:
    """Every service's image, enabled or not, by service name."""
    profile = profile_for(images.release)
    return {s.name: profile.image(s.name, images.source) for s in profile.services}
