"""Identity providers: the OpenID Connect client."""
