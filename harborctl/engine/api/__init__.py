"""The one typed seam to the Docker engine: the interface, the standard-library socket client,
the docker SDK adapter (the only module importing ``docker``) and a command's session."""
