"""Synthetic checks: what this machine sees when it talks to the vendor.

Each kind is a function ``run(settings, context) -> CheckResult`` in its own
module, registered in ``registry.py``. A check never raises for a failure it
can name: it returns a result whose ``failure_class`` the correlator reasons over.
"""
