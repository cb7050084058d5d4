"""Running a deployment: stop, start, restart and down, waiting for health, watching exits."""
