"""GoldUpdated → score every affected user → fact_predictions → PredictionsWritten.

A poll's worth of GoldUpdated messages is handled as one batch: a user named in several
messages is scored once, from the earliest changed day any of them reports. Scoring a user
re-reads that user's whole gold history, so the handler is idempotent: a redelivered message
rewrites the same rows.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime

import pandas as pd

from ml.exceptions import ArtefactError
from ml.features import date_key_to_date
from ml.predict import BASELINE_NAME, LoadedModel, latest_version, load_model
from scorer.domain.scoring import ScoringModel, score
from scorer.repository import PredictionRepository
from scorer.settings import ScorerSettings
from shared.contracts import GoldUpdated, PredictionsWritten
from shared.messaging import publish_message
from shared.ports import BlobStore, MessageBus
from shared.runtime import Delivery
from shared.telemetry import tracer

log = logging.getLogger(__name__)
_tracer = tracer(__name__)


def affected_users(messages: Sequence[GoldUpdated]) -> dict[int, date | None]:
    """User → earliest changed gold day (``None``: rescore the whole history).

    A message without dates says "something changed" without saying where, so it forces a full
    rescore of its users.
    """
    since: dict[int, date | None] = {}
    for message in messages:
        first = min(message.dates) if message.dates else None
        for user_id in message.user_ids:
            if user_id in since:
                current = since[user_id]
                since[user_id] = None if current is None or first is None else min(current, first)
            else:
                since[user_id] = first
    return since


class ScoreHandler:
    """Owns the loaded model and turns gold changes into predictions."""

    def __init__(
        self,
        repository: PredictionRepository,
        blobs: BlobStore,
        bus: MessageBus,
        settings: ScorerSettings,
    ) -> None:
        self.repository = repository
        self.blobs = blobs
        self.bus = bus
        self.settings = settings
        self.model: ScoringModel | None = None
        self._model_checked_at = float("-inf")
        self._table_ready = False
        # One scoring run at a time: two overlapping runs for a user would each delete the
        # other's rows as stale (the periodic model refresh and the consumer share the loop).
        self._lock = asyncio.Lock()

    async def refresh_model(self, *, force: bool = False) -> bool:
        """Load a newer model version if one was saved since the last check.

        Returns:
            True when a different version was loaded.
        """
        now = time.monotonic()
        if not force and now - self._model_checked_at < self.settings.artefact_refresh_s:
            return False
        self._model_checked_at = now
        version = await latest_version(self.blobs, self.settings.artefact_name)
        if version is None or (self.model is not None and self.model.version == version):
            return False
        try:
            loaded: LoadedModel = await load_model(self.blobs, self.settings.artefact_name, version)
        except ArtefactError:
            # Keep scoring with what we have (at least the baseline) rather than crash-loop.
            log.exception("model artefact unusable; keeping the current model")
            return False
        self.model = ScoringModel(
            name=loaded.name, version=loaded.version, pipeline=loaded.pipeline
        )
        log.info("model loaded", extra={"model_name": loaded.name, "model_version": loaded.version})
        return True

    async def start(self) -> None:
        """At process start: load the latest model; rescore if rows of another version remain.

        That covers a model trained (or rolled back) while the scorer was down.
        """
        await self._ensure_table()
        await self.refresh_model(force=True)
        model = self.model
        if model is None:
            return
        stale = await asyncio.to_thread(
            self.repository.rows_of_other_versions, model.name, model.version
        )
        if stale:
            log.info(
                "predictions of another model version found; rescoring",
                extra={"rows": stale, "model_version": model.version},
            )
            await self.rescore_all()

    async def refresh_model_now(self) -> None:
        """Periodic job: a new version rescores every user's history with it."""
        if await self.refresh_model(force=True):
            await self.rescore_all()

    async def rescore_all(self) -> list[PredictionsWritten]:
        """Rescore the whole history of every user with gold (after a model change)."""
        await self._ensure_table()
        users = await asyncio.to_thread(self.repository.users_with_gold)
        published: list[PredictionsWritten] = []
        for user_id in users:
            published += await self.score_user(user_id, None)
        if published:
            await asyncio.to_thread(self.repository.publish)
        log.info("rescored all users", extra={"users": len(users)})
        return published

    async def _ensure_table(self) -> None:
        if not self._table_ready:
            await asyncio.to_thread(self.repository.ensure_table)
            self._table_ready = True

    async def handle_batch(self, deliveries: Sequence[Delivery]) -> None:
        """Consumer batch handler: score each affected user once."""
        messages = [d.payload for d in deliveries if isinstance(d.payload, GoldUpdated)]
        await self.handle(messages)

    async def handle(self, messages: Sequence[GoldUpdated]) -> list[PredictionsWritten]:
        """Score every user the messages name; returns the published notifications.

        A model version that appeared since the last check rescores every user instead.
        """
        await self._ensure_table()
        purged = sorted({u for m in messages for u in m.purged_user_ids})
        for user_id in purged:  # after gold is gone (transformer.purge): nothing re-creates them
            async with self._lock:
                removed = await asyncio.to_thread(self.repository.delete_user, user_id)
            log.info("purged member predictions", extra={"user_id": user_id, "rows": removed})
        if purged:
            await asyncio.to_thread(self.repository.publish)  # readers stop seeing them now
        if await self.refresh_model():
            return await self.rescore_all()
        published: list[PredictionsWritten] = []
        for user_id, since in sorted(affected_users(messages).items()):
            if user_id in purged:
                continue
            published += await self.score_user(user_id, since)
        if published:
            await asyncio.to_thread(self.repository.publish)
        return published

    async def score_user(self, user_id: int, since: date | None) -> list[PredictionsWritten]:
        """Rescore one user from ``since`` on, write the rows, announce them per model."""
        async with self._lock:
            return await self._score_user(user_id, since)

    async def _score_user(self, user_id: int, since: date | None) -> list[PredictionsWritten]:
        run_id = uuid.uuid4().hex
        scored_at = datetime.now(UTC)
        with _tracer.start_as_current_span(
            "score user", attributes={"wdp.user_id": user_id, "wdp.run_id": run_id}
        ) as span:
            gold = await asyncio.to_thread(self.repository.read_gold, user_id)
            model = self.model
            rows = await asyncio.to_thread(
                score, gold, model=model, run_id=run_id, scored_at=scored_at, since=since
            )
            names = [BASELINE_NAME] + ([model.name] if model is not None else [])
            written = await asyncio.to_thread(
                self.repository.write, user_id, names, rows, run_id=run_id, since=since
            )
            span.set_attribute("wdp.rows", written)
            log.info(
                "predictions written",
                extra={
                    "user_id": user_id,
                    "rows": written,
                    "since": since.isoformat() if since else None,
                    "run_id": run_id,
                },
            )
            messages = [
                PredictionsWritten(
                    user_id=user_id,
                    model_name=name,
                    model_version=_version(rows, name),
                    dates=_dates(rows, name),
                    rows=int((rows["model_name"] == name).sum()) if len(rows) else 0,
                    run_id=run_id,
                    finished_at=datetime.now(UTC),
                )
                for name in names
            ]
            for message in messages:
                await publish_message(self.bus, message)
        return messages


def _dates(rows: pd.DataFrame, name: str) -> tuple[date, ...]:
    if not len(rows):
        return ()
    keys = rows.loc[rows["model_name"] == name, "date_key"]
    return tuple(date_key_to_date(int(k)) for k in sorted(keys.unique()))


def _version(rows: pd.DataFrame, name: str) -> str:
    if len(rows):
        versions = rows.loc[rows["model_name"] == name, "model_version"]
        if len(versions):
            return str(versions.iloc[0])
    return "none"
