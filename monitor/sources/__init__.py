"""Upstream status providers: bytes in, records out (see records.py)."""
