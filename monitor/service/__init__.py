"""``monitor run``: the scheduler's wiring (``scheduler``), one small module per job (``jobs/``),
and the one-instance lock (``lock``)."""
