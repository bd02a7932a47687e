"""The WHOOP Data Platform's own library: contracts, ports, adapters, settings, logging, telemetry.

Nothing in this package connects to anything, reads the environment or builds a client at
import time; each service's ``bootstrap()`` does that from validated settings.
"""
