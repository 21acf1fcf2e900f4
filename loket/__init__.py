"""Loket: virtual police desks with a central back office."""

__version__ = "0.1.0"
