"""Images: which are present, what an offline bundle holds, loading and pulling."""
