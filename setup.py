"""Ships the top-level templates/ folder inside the wheel as the package data ``harborctl.templates``,
and scripts/harborctl as the ``harborctl`` command.

pyproject.toml holds everything else; only this needs code (a found package list plus one
package whose source folder lives outside ``harborctl/``; a script file, which pyproject.toml can
name only through a deprecated setuptools key).
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["harborctl", "harborctl.*"]), "harborctl.templates"],
    package_dir={"harborctl.templates": "templates"},
    package_data={"harborctl.templates": ["**/*.j2", "**/*.conf", "**/*.txt"]},
    include_package_data=False,
    scripts=["scripts/harborctl"],
)
