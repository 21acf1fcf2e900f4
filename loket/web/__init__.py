"""The web adapter: pages, the JSON API and live streams over WebSockets."""
