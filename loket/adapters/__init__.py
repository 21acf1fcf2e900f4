"""Adapters: the replaceable outside parts (storage, events, passwords) around the core."""
