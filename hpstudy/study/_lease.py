"""The study's lease for one run: one coordinator per study file."""

from __future__ import annotations

import threading
from typing import Any

from hpstudy.errors import StorageError

__all__ = ["LeaseKeeper"]


class LeaseKeeper:
    """The study's lease for one run: taken at the start, renewed by a heartbeat thread,
    given back at the end (storages without leases: nothing)."""

    def __init__(self, storage: Any, n_jobs: int, in_process: bool) -> None:
        self.storage, self.previous, self.lost = storage, None, False
        self.held = callable(getattr(storage, "acquire_lease", None)) \
            and not getattr(storage, "read_only", False)
        self._stop = threading.Event()
        if not self.held:
            return
        _, self.previous = storage.acquire_lease(n_jobs=n_jobs, in_process=in_process)
        self._thread = threading.Thread(target=self._beat, args=(float(getattr(storage, "heartbeat_s", 5.0)),),
                                        name="hpstudy-heartbeat", daemon=True)
        self._thread.start()

    @property
    def crashed_in_process(self) -> bool:
        """True when the last coordinator died (its lease was not given back) while running
        objectives in its own process."""
        return self.previous is not None and bool(self.previous.in_process)

    def _beat(self, interval: float) -> None:
        while not self._stop.wait(interval):
            try:
                if not self.storage.renew_lease():
                    self.lost = True
                    return
            except StorageError:  # a busy disk: the next beat tries again
                continue

    def release(self) -> None:
        if not self.held:
            return
        self._stop.set()
        self._thread.join(timeout=30)
        try:
            self.storage.release_lease()
        except StorageError:  # the lease goes stale on its own once this process ends
            pass
