"""What retention deletes, as statements: finished jobs, finished webhook deliveries, old bodies,
the web page's old test runs.

Each ``delete_*`` removes at most ``limit`` rows and returns how many it removed, so the service
deletes a large backlog in short transactions (the SQLite write lock, PostgreSQL row locks).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from mailport.adapters.storage.tables import Job
from mailport.adapters.storage.tables_outbox import Message, MessageContent, WebhookDelivery
from mailport.adapters.storage.tables_sessions import UiTestRun

__all__ = ["RetentionRepository"]


class RetentionRepository:
    def __init__(self, session: Session) -> None:
        self.s = session

    def delete_jobs(self, *, states: Sequence[str], before: datetime, limit: int) -> int:
        return self._delete(select(Job.id).where(Job.state.in_(states), Job.updated_at < before), Job.id, limit)

    def delete_webhook_deliveries(self, *, states: Sequence[str], before: datetime, limit: int) -> int:
        return self._delete(select(WebhookDelivery.id).where(WebhookDelivery.state.in_(states),
                                                             WebhookDelivery.updated_at < before),
                            WebhookDelivery.id, limit)

    def delete_message_bodies(self, *, states: Sequence[str], before: datetime, limit: int) -> int:
        return self._delete(
            select(MessageContent.message_id).join(Message, Message.id == MessageContent.message_id)
            .where(Message.state.in_(states), Message.updated_at < before),
            MessageContent.message_id, limit)

    def delete_ui_test_runs(self, *, before: datetime, limit: int) -> int:
        """Live test runs started before ``before``, whatever their state (finished or abandoned)."""
        return self._delete(select(UiTestRun.id).where(UiTestRun.started_at < before), UiTestRun.id, limit)

    def _delete(self, ids: Select[Any], column: InstrumentedAttribute[Any], limit: int) -> int:
        chunk = list(self.s.scalars(ids.limit(limit)))
        if chunk:
            self.s.execute(delete(column.class_).where(column.in_(chunk))
                           .execution_options(synchronize_session=False))
        return len(chunk)
