"""The transformer service."""
