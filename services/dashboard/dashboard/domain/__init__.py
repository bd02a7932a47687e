"""Pure view-model code: no I/O, no FastAPI, no warehouse."""
