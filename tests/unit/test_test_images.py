"""The look-alike images' recipes (tests/images/build.py), without an engine: the 2.15 set is
tagged exactly as the 2.15 profile asks, and each image's build context is its own variant."""

from __future__ import annotations

from harborctl.plan.harbor_2_15 import HARBOR_2_15
from tests.images.build import (
    COMPONENTS,
    COMPONENTS_V2,
    V2_RELEASE,
    _context_files,
    component_recipe_hash,
    components_of,
    image_tags,
)


def test_the_v2_look_alikes_carry_every_image_the_2_15_profile_runs() -> None:
    assert f"v{HARBOR_2_15.release}" == V2_RELEASE
    wanted = {s.name: HARBOR_2_15.image(s.name, "goharbor") for s in HARBOR_2_15.services}
    assert image_tags(V2_RELEASE) == wanted
    assert components_of("v1.7.5") == COMPONENTS and components_of(V2_RELEASE) == COMPONENTS_V2


def test_a_build_context_holds_its_own_dockerfile_and_no_other() -> None:
    for component in (*COMPONENTS, *COMPONENTS_V2):
        names = [name for name, _ in _context_files(component)]
        dockerfiles = [n for n in names if n.split("/")[-1].startswith("Dockerfile")]
        assert dockerfiles == ["Dockerfile"], (component, dockerfiles)
        source = dict(_context_files(component))["Dockerfile"]
        assert source.name == component.dockerfile


def test_the_two_variants_of_a_folder_have_different_recipes() -> None:
    v1 = {c.service: c for c in COMPONENTS}
    for component in COMPONENTS_V2:
        if component.service in v1 and component.dockerfile != "Dockerfile":
            assert (component_recipe_hash(component, V2_RELEASE, "base")
                    != component_recipe_hash(v1[component.service], V2_RELEASE, "base"))
