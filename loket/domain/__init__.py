"""The domain core: plain Python, no framework or database imports."""
