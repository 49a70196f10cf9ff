"""Offline tools, never imported by the running site: bench, site bench, websocket session client."""
