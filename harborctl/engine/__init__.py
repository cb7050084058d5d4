"""The Docker side of harborctl, driven by the rendered docker-compose.yml.

The stages, one subpackage each: ``compose`` (read the file) → ``images`` (present? load, pull)
→ ``converge`` (plan, create/recreate/start in dependency order) → ``lifecycle`` (health waits,
stop/start/restart/down) → ``status``. Every engine call goes through ``api`` (one typed
interface; the socket client and the docker SDK adapter behind it). Nothing here prints:
progress goes through a ``report(str)`` callback handed in by the caller.
"""
