"""Sub-commands of ``wdp``, one module per area."""
