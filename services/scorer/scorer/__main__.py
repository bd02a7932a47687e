"""``python -m scorer``."""

from scorer.entrypoints.consumer import main

main()
