"""Statements as signed documents: rendering, PAdES signing and the signing identity."""
