"""The compose file: reading and checking it, its typed model, its syntax, the labels harborctl
puts on containers, and the remembered service list of a fast status."""
