"""Dashboards: uptime, correlation timeline and latency charts plus ``index.html``.

The pure parts (``outages``, ``uptime``, ``model``, ``page``, ``style``) import
no plotting library; ``render``, ``timeline`` and ``generate`` import
matplotlib, and only ``monitor chart`` and the service's dashboards job import
those, lazily.
"""
