"""In-memory storage, for tests and throwaway studies (one process only; thread-safe)."""

from __future__ import annotations

import copy
import json
import threading
import time
from collections.abc import Sequence
from typing import Any

from hpstudy.errors import DuplicateEventError
from hpstudy.storage.events import Event, EventKind, payload_json, unique_key

__all__ = ["MemoryStorage"]


class MemoryStorage:
    """Keeps the event log in a list. Not shareable between processes."""

    shareable = False

    def __init__(self) -> None:
        self._meta: dict[str, Any] | None = None
        self._events: list[Event] = []
        self._keys: set[tuple] = set()
        self._lock = threading.Lock()
        self._replays: dict = {}  # the replays of this storage's studies (``replay_of``)
        self.epoch: int | None = None  # no lease in memory (one process)

    def __getstate__(self) -> dict[str, Any]:
        return {"meta": self._meta, "events": self._events, "keys": self._keys}

    def __setstate__(self, state: dict[str, Any]) -> None:
        MemoryStorage.__init__(self)
        self._meta, self._events, self._keys = state["meta"], state["events"], state["keys"]

    def initialize(self, meta: dict[str, Any]) -> dict[str, Any]:
        if self._meta is None:
            self._meta = json.loads(json.dumps(meta))
        return copy.deepcopy(self._meta)

    def update_annotations(self, changes: dict[str, Any]) -> dict[str, Any]:
        """Merge ``changes`` into the stored study's annotations; return them all."""
        from hpstudy.errors import StorageError

        if self._meta is None:
            raise StorageError("storage: holds no study yet")
        annotations = dict(self._meta.get("annotations") or {}, **dict(changes))
        annotations = json.loads(payload_json(annotations))
        with self._lock:
            self._meta["annotations"] = annotations
        return copy.deepcopy(annotations)

    def append(self, kind: EventKind, number: int, payload: dict[str, Any]) -> int:
        payload = json.loads(payload_json(payload))  # a private copy, as a file store would keep
        key = unique_key(kind, number, payload, self.epoch)
        with self._lock:
            if key is not None:
                if key in self._keys:
                    raise DuplicateEventError(
                        f"duplicate event refused: {kind.value} for trial {number}")
                self._keys.add(key)
            event = Event(id=len(self._events) + 1, kind=kind, number=number, payload=payload,
                          time=time.time(), epoch=self.epoch)
            self._events.append(event)
        return event.id

    def read(self, after: int = 0) -> Sequence[Event]:
        with self._lock:
            return self._events[after:]

    def __repr__(self) -> str:
        return f"MemoryStorage({len(self._events)} events)"
