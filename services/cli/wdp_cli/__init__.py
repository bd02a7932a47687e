"""The wdp command-line interface."""
