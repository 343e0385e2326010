"""The service's local HTTP API: ``/api/why``, ``/api/timeline``, ``/api/status``, ``/healthz``,
``/metrics`` and the dashboards, served by ``monitor run`` while ``[http] listen`` is set.

One module per job: ``address`` (what ``listen`` may say), ``server`` (binding,
the serving thread, limits), ``handler`` (one request: checks, then a route),
``routes`` (the endpoints), ``access`` (Host and bearer token), ``static`` (the
dashboards folder) and ``metrics`` (Prometheus). The answers are
``monitor.views``', so the API and the command line say the same bytes.
"""
