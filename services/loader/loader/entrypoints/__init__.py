"""Process entry points of the loader."""
