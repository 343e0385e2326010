"""A realistic monitor database for the benchmarks: ``python -m benchmarks.generate``.

A year of 12 checks every 30 s (about 12 million check runs), three status
pages with 2,000 incidents, monitoring gaps, and the failures a user asks
``why`` about: upstream outages, a stale API key, a VPN drop. Deterministic
for a seed; see ``generate`` and the summary it writes beside the file.
"""

from __future__ import annotations

from benchmarks.generate.core import DEFAULT_END, generate
from benchmarks.generate.summary import GeneratedSummary, Moment, load_summary, summary_path

__all__ = ["DEFAULT_END", "GeneratedSummary", "Moment", "generate", "load_summary", "summary_path"]
