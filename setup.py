"""Ships the templates inside the wheel as package data of ``harborctl`` (``harborctl/templates``
is a link to the top-level templates/ folder, so the source tree and the wheel find them at the
same place), and scripts/harborctl as the ``harborctl`` command.

pyproject.toml holds everything else; only this needs code (a found package list; a script
file, which pyproject.toml can name only through a deprecated setuptools key).
"""

from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["harborctl", "harborctl.*"]),
    package_data={"harborctl": ["templates/**/*.j2", "templates/**/*.conf", "templates/**/*.txt"]},
    include_package_data=False,
    scripts=["scripts/harborctl"],
)
