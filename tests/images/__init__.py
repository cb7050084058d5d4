"""harborctl's test images: local stand-ins for Harbor's images (test fixtures)."""
