"""``python -m transformer``."""

from transformer.entrypoints.consumer import main

main()
