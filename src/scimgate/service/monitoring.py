"""What ``/metrics`` reads at scrape time, beside the per-request counters.

Kept in the service layer so that the HTTP side (``observability``) holds only
the ``Database`` handle, like every other caller above storage.
"""

from __future__ import annotations

from scimgate.storage.backlog import Backlog
from scimgate.storage.backlog import webhook_backlog as _webhook_backlog
from scimgate.storage.database import Database

__all__ = ["Backlog", "webhook_backlog"]


def webhook_backlog(db: Database) -> list[Backlog]:
    """Events past each enabled webhook's cursor, for every webhook (global ones too)."""
    return _webhook_backlog(db)
