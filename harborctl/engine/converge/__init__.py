"""Bringing a project's containers in line with its compose file: planning, applying the plan
(creating, starting, removing containers and networks), in dependency order."""
