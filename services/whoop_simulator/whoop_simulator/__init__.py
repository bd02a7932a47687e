"""The whoop_simulator service."""
