"""Pure extraction logic: resource specs, bronze paths and lines, time windows (no I/O)."""
