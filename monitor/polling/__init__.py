"""The poll pipeline, laid out like ``monitor/checks/``: ask a status page, read it, record it.

``fetch`` is the bounded HTTP GET, ``backoff`` the politeness toward a
struggling vendor, ``harvest`` one source's fetch-and-parse, ``record`` its
one transaction, ``poll`` the orchestration over every source. The parsers
stay pure in ``monitor/sources/``, below the store that keeps their records.
"""
