"""The storage protocol: an append-only event log with a metadata record."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from hpstudy.storage.events import Event, EventKind

__all__ = ["Storage"]


@runtime_checkable
class Storage(Protocol):
    """Where a study writes what happened, before it acts on it.

    Implementations must make :meth:`append` durable before returning, refuse a
    second ``trial_created`` or ``trial_finished`` for one trial and a second
    ``fold_finished`` for one (trial, fold) with :class:`~hpstudy.errors.DuplicateEventError`
    (and report any other failure as :class:`~hpstudy.errors.StorageError`), and be
    safe to use from several processes (and threads) if they claim to be shareable.
    """

    def initialize(self, meta: dict[str, Any]) -> dict[str, Any]:
        """Store ``meta`` if the study is new; return the stored metadata either way."""
        ...

    def append(self, kind: EventKind, number: int, payload: dict[str, Any]) -> int:
        """Append one event; return its id."""
        ...

    def read(self, after: int = 0) -> Sequence[Event]:
        """The events whose id is greater than ``after``, in order."""
        ...
