"""``python -m loader``."""

from loader.entrypoints.consumer import main

main()
