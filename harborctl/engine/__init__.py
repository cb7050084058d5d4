"""The Docker side of harborctl, driven by the rendered docker-compose.yml through the SDK.

compose (read the file) → images (load/pull) → converge (create/recreate/start, health gating)
→ status; lifecycle has stop/start/restart/down. Nothing here prints: progress goes through a
``report(str)`` callback handed in by the caller.
"""
