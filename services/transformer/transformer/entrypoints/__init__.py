"""Process entrypoints of the transformer."""
