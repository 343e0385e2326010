"""The schema revision this code expects, known without loading SQLAlchemy or Alembic.

The newest revision in migrations/versions. tests/test_migrations.py fails
if a migration is added without moving this.
"""

from __future__ import annotations

HEAD_REVISION = "0010"
