"""A realistic monitor database for the benchmarks: ``python -m benchmarks.generate``.

A year of 12 checks every 30 s (12.6 million check runs) in the store's
compact layout, three status pages with 2,000 incidents, their polls,
component history and maintenances, the service's heartbeats, and planted
moments of each kind a user asks ``why`` about (an upstream incident, a
stale API key, a VPN drop, a quiet hour, a monitoring gap), named in a
summary written beside the file. Deterministic for a seed.
"""

from benchmarks.generate.story import GeneratedSummary, Moment, load_summary, summary_path
from benchmarks.generate.write import DEFAULT_END, TABLES, generate

__all__ = ["DEFAULT_END", "TABLES", "GeneratedSummary", "Moment", "generate", "load_summary"]
__all__ += ["summary_path"]
