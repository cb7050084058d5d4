"""What runs: one label query of the project's containers and its summary.

Kept lean on purpose (no imports here): `harborctl status` imports this package."""
