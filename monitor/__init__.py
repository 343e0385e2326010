"""monitor: is it me, or is it them?

Records upstream status-page incidents and the user's own synthetic checks,
then lines them up to say whose fault a failure was.
"""

from __future__ import annotations

__version__ = "0.1.0"
