"""Pure scoring logic: gold frames in, prediction rows out (no I/O, no SDKs)."""
