# This module has no inputs on purpose: the contract is code, reviewed like code, and the
# same in every environment. Per-environment choices (SKUs, replicas) live in the env roots.
