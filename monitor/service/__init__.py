"""``monitor run``: the scheduler's wiring (``scheduler``), one small module per job (``jobs/``),
the one-instance lock (``lock``) and the local HTTP API (``api/``)."""
