"""Thin entrypoints: the bus consumer process."""
