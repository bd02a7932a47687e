"""``python -m extractor``."""

from extractor.entrypoints.consumer import main

main()
