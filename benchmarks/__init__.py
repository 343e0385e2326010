"""Benchmarks for monitor's ingest, polling and check paths: ``python -m benchmarks [--quick]``.

Every figure runs against real payloads (tests/fixtures/github) and a real HTTP
server on 127.0.0.1; nothing leaves the machine.
"""
