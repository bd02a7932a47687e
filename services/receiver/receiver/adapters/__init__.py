"""Receiver-local state adapters (webhook dedupe, OAuth state)."""
