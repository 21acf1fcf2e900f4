"""Virus scanners for uploads: clamd over its INSTREAM protocol, or none."""
