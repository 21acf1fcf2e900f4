"""Marker for strings that the web layer translates; the domain itself stays language-free."""


def N_(message: str) -> str:
    """Mark `message` for extraction into the catalogs without translating it here."""
    return message
