"""The release profiles harborctl knows, by Harbor release. A second release is one more entry
here plus its table module (see ``harborctl.plan.profile``)."""

from __future__ import annotations

from harborctl.config.model import Config
from harborctl.config.yml.model import Config2
from harborctl.plan.harbor_1_7 import HARBOR_1_7
from harborctl.plan.harbor_2_15 import HARBOR_2_15
from harborctl.plan.profile import ReleaseProfile

PROFILES: tuple[ReleaseProfile, ...] = (HARBOR_1_7, HARBOR_2_15)


def profile_for(release: str) -> ReleaseProfile:
    """The profile of a release that validation accepted (config.keys.SUPPORTED_RELEASES)."""
    for profile in PROFILES:
        if profile.release == release:
            return profile
    raise KeyError(f"no release profile for Harbor {release}")


def profile_of(config: Config | Config2) -> ReleaseProfile:
    """harbor.yml selects the 2.15 profile; harbor.cfg the release its harbor_release names."""
    if isinstance(config, Config2):
        return HARBOR_2_15
    return profile_for(config.images.release)
