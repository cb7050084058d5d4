"""harborctl: install and run a Harbor registry on a Docker host."""

__version__ = "0.1.0"
