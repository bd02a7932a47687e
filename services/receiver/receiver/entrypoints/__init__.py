"""Thin HTTP entrypoints."""
