"""Adapters implementing the ports."""
