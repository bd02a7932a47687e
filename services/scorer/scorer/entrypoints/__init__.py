"""Process entrypoints of the scorer."""
