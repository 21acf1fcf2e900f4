"""Relays of call signalling between nodes: in-process, or Redis pub/sub."""
