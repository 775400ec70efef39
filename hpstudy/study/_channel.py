"""The Dask channel: workers append to and read the study's log through the coordinator.

On a Dask cluster the workers cannot reach the study file (another host), and must
not write it (one writer per study). The task a worker runs therefore carries a
:class:`ChannelStorage` instead of the study's storage: its ``append`` and ``read``
are request/reply messages through Dask itself, on ``distributed.Queue`` objects
held by the scheduler. The coordinator's :class:`ChannelServer` thread takes each
request from the run's request queue, applies it to the real storage (the append
is durable before the reply, so "record before acting" holds: the objective goes
on only once its report is recorded) and puts the reply (the event id, the
events, or the error) on the asking worker thread's reply queue. Then
:class:`~hpstudy.study.context.TrialContext`, the stoppers and
``record_outcome`` work on workers unchanged.

Why queues: they are plain request/reply mailboxes kept by the scheduler, so a
worker needs only its scheduler address (which it has), nothing of the
coordinator's; a message to a dead coordinator stays in a queue nobody reads
(Pub/Sub would drop it silently, an actor would live on a worker, not beside the
study file). Each run's request queue is named after the study, the lease epoch
and a random token: a dead coordinator's tasks write to their own, unread queue,
and a request of another epoch is refused (``stale``) anyway.

Each task attempt introduces itself first (``start``): when Dask runs a task
again because its worker died, the coordinator sees a second start of an attempt
it never collected, records ``trial_restarted`` for that fold (the killed attempt's
reports are dropped; the trial's other folds go on) or, past ``max_retries``, the
fold FAILED; requests of any attempt but the current one are refused, so a zombie
attempt cannot record anything.
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

from hpstudy.errors import DuplicateEventError, StorageError
from hpstudy.storage import Event, EventKind
from hpstudy.trials import TrialState

__all__ = ["ChannelLost", "ChannelServer", "ChannelStorage", "WORKER_DIED"]

WORKER_DIED = "worker died while running it (killed, out of memory or os._exit)"
REPLY_WAIT_S = 5.0  # a worker checks, this often, whether its task was cancelled
REPLY_DEADLINE_S = 300.0  # and gives up waiting for a reply after this long
# channel name -> the replays shared by this worker process's tasks of that run
_WORKER_REPLAYS: dict[str, dict] = {}
_CONNECTIONS: dict[tuple[str, int], Any] = {}  # (channel, thread id) -> the reply queue
# channel -> the id up to which this process read the log, and the events an append's
# reply brought along (a report is then one round trip: ctx.report reads right after)
_SEEN: dict[str, int] = {}
_PREFETCHED: dict[str, tuple[int, list[Event]]] = {}
_LOCK = threading.Lock()


class ChannelLost(StorageError):  # noqa: N818 (a StorageError, by the family's names)
    """The coordinator could not be reached (scheduler restarted, task cancelled, the
    coordinator died) or refused this attempt as stale: the attempt ends, unrecorded."""


def _queue(name: str, client: Any = None) -> Any:
    from distributed import Queue

    return Queue(name, client=client)


def _cancelled() -> bool:
    """True when the Dask task this thread runs was cancelled (its client is gone)."""
    try:
        from distributed import get_worker

        worker = get_worker()
        key = worker.get_current_task()
        state = worker.state.tasks.get(key)
    except Exception:  # not on a worker
        return False
    return state is None or state.state in ("cancelled", "released", "forgotten")


def _event_to_wire(e: Event) -> list:
    return [e.id, e.kind.value, e.number, e.payload, e.time, e.epoch]


def _event_from_wire(row: list) -> Event:
    return Event(id=int(row[0]), kind=EventKind(row[1]), number=int(row[2]), payload=row[3],
                 time=float(row[4]), epoch=None if row[5] is None else int(row[5]))


class ChannelStorage:
    """The storage a task carries on Dask: ``append``/``read`` are messages to the coordinator.

    Parameters
    ----------
    name : str
        The run's request queue.
    epoch : int or None
        The coordinator's lease epoch; requests of another epoch are refused.
    """

    shareable = True

    def __init__(self, name: str, epoch: int | None) -> None:
        self.name, self.epoch = name, epoch
        self.attempt: str | None = None  # set by the worker when the task starts
        self.task: tuple[int, int] | None = None
        self._replays = _WORKER_REPLAYS.setdefault(name, {})

    def __getstate__(self) -> dict[str, Any]:
        return {"name": self.name, "epoch": self.epoch}

    def __setstate__(self, state: dict[str, Any]) -> None:
        ChannelStorage.__init__(self, state["name"], state["epoch"])

    def __repr__(self) -> str:
        return f"ChannelStorage({self.name!r})"

    # ------------------------------------------------------------------ the protocol
    def initialize(self, meta: dict[str, Any]) -> dict[str, Any]:
        raise StorageError("storage: a Dask task cannot initialize the study (the coordinator does)")

    def append(self, kind: EventKind, number: int, payload: dict[str, Any]) -> int:
        message = {"op": "append", "kind": kind.value, "number": int(number), "payload": payload}
        with _LOCK:
            seen = _SEEN.get(self.name)
        if kind is EventKind.REPORT and seen is not None:
            message["after"] = seen  # bring back the new events: the stopper reads them next
        reply = self.request(message)
        if "events" in reply and seen is not None:
            with _LOCK:
                _PREFETCHED[self.name] = (seen, [_event_from_wire(r) for r in reply["events"]])
        return int(reply["id"])

    def read(self, after: int = 0) -> list[Event]:
        after = int(after)
        with _LOCK:
            cached = _PREFETCHED.pop(self.name, None)
        if cached is not None and cached[0] <= after:  # the log as of the last append
            events = [e for e in cached[1] if e.id > after]
        else:
            reply = self.request({"op": "read", "after": after})
            events = [_event_from_wire(row) for row in reply["events"]]
        with _LOCK:
            if events:
                _SEEN[self.name] = max(_SEEN.get(self.name, 0), events[-1].id)
            else:
                _SEEN.setdefault(self.name, after)
        return events

    # ------------------------------------------------------------------ messages
    def start(self, number: int, fold: int, *, repeat: int, seed: int,
              worker: str | None) -> dict[str, Any]:
        """Introduce a new attempt of task (number, fold); the reply says go on or not."""
        self.attempt, self.task = uuid.uuid4().hex, (int(number), int(fold))
        return self.request({"op": "start", "worker": worker, "repeat": repeat, "seed": seed})

    def request(self, message: dict[str, Any]) -> dict[str, Any]:
        """Send one request and wait for its reply (raise what the coordinator reports)."""
        if _cancelled():
            raise ChannelLost("the task was cancelled (its coordinator is gone or dropped it)")
        key = (self.name, threading.get_ident())
        with _LOCK:
            reply_queue = _CONNECTIONS.get(key)
        try:
            if reply_queue is None:
                reply_queue = _queue(f"{self.name}-r-{uuid.uuid4().hex[:12]}")
                with _LOCK:
                    _CONNECTIONS[key] = reply_queue
            seq = uuid.uuid4().hex
            _queue(self.name).put(dict(message, reply=reply_queue.name, seq=seq, epoch=self.epoch,
                                       attempt=self.attempt, task=self.task))
            deadline = time.monotonic() + REPLY_DEADLINE_S
            while True:
                try:
                    reply = reply_queue.get(timeout=REPLY_WAIT_S)
                except TimeoutError:
                    if _cancelled() or time.monotonic() > deadline:
                        raise ChannelLost("no reply from the coordinator") from None
                    continue
                if reply.get("seq") == seq:
                    break
        except ChannelLost:
            raise
        except Exception as exc:  # the scheduler went away, the queue is gone
            with _LOCK:
                _CONNECTIONS.pop(key, None)
            raise ChannelLost(f"the channel to the coordinator failed ({type(exc).__name__}: "
                              f"{exc})") from exc
        error = reply.get("error")
        if error == "duplicate":
            raise DuplicateEventError(reply["message"])
        if error == "stale":
            raise ChannelLost(reply["message"])
        if error is not None:
            raise StorageError(reply["message"])
        return reply


class ChannelServer:
    """The coordinator's end: serves the run's requests against the real storage.

    Parameters
    ----------
    client : distributed.Client
        The coordinator's client.
    study : Study
        The study (its storage, whose lease epoch names the channel, and its replay).
    max_retries : int
        How often a task whose worker died is run again (see the module docstring).
    """

    def __init__(self, client: Any, study: Any, max_retries: int = 0) -> None:
        self.client, self.study, self.max_retries = client, study, max_retries
        self.storage = study.storage
        self.epoch = getattr(self.storage, "epoch", None)
        self.name = f"hpstudy-{(study.study_id or 'study')[:12]}-e{self.epoch}-{uuid.uuid4().hex[:8]}"
        self.error: BaseException | None = None
        self.requests = 0
        self._lock = threading.Lock()
        self._current: dict[tuple[int, int], str] = {}  # task -> its current attempt
        self._running: dict[tuple[int, int], tuple[float, str | None]] = {}  # since, worker
        self.deaths: dict[tuple[int, int], int] = {}  # worker deaths per task
        self._ended: set[str] = set()  # workers the coordinator ended (trial_timeout)
        self._replies: dict[str, Any] = {}
        self._queue = _queue(self.name, client)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="hpstudy-dask-channel",
                                        daemon=True)
        self._thread.start()

    def proxy(self) -> ChannelStorage:
        """The storage the tasks of this run carry."""
        return ChannelStorage(self.name, self.epoch)

    # ------------------------------------------------------------------ bookkeeping
    def collected(self, number: int, fold: int) -> None:
        """The coordinator has the task's future back: a later start is a new task."""
        with self._lock:
            self._current.pop((number, fold), None)
            self._running.pop((number, fold), None)

    def running(self) -> dict[tuple[int, int], tuple[float, str | None]]:
        """The tasks started and not collected: (number, fold) -> (start time, worker)."""
        with self._lock:
            return dict(self._running)

    def ended(self, worker: str) -> None:
        """The coordinator ends ``worker`` (``trial_timeout``): the tasks it loses are not
        blamed for its death."""
        with self._lock:
            self._ended.add(worker)

    def check(self) -> None:
        """Raise the storage error the serving thread met, if any."""
        if self.error is not None:
            raise self.error

    def stop(self) -> None:
        self._stop.set()
        try:
            self._queue.put({"op": "stop"}, timeout=5)
        except Exception:  # the scheduler is gone: the thread ends with the client
            pass
        self._thread.join(timeout=10)
        try:
            self._queue.close()
        except Exception:  # the client is already closed
            pass

    # ------------------------------------------------------------------ serving
    def _serve(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:  # no timeout: the scheduler logs each one as an error; stop() sends "stop"
                message = self._queue.get()
            except Exception:  # the scheduler restarted: the queue is gone; make it again
                failures += 1
                if self._stop.wait(min(2.0, 0.1 * failures)):
                    return
                try:
                    self._queue = _queue(self.name, self.client)
                except Exception:
                    pass
                continue
            failures = 0
            if message.get("op") == "stop":
                return
            self.requests += 1
            reply = self._handle(message)
            reply["seq"] = message.get("seq")
            try:
                queue = self._replies.get(message["reply"])
                if queue is None:
                    queue = self._replies[message["reply"]] = _queue(message["reply"], self.client)
                queue.put(reply)
            except Exception:  # the asking worker is gone (or the scheduler): it will time out
                self._replies.pop(message.get("reply"), None)

    def _handle(self, m: dict[str, Any]) -> dict[str, Any]:
        if m.get("epoch") != self.epoch:
            return {"error": "stale", "message": f"request of epoch {m.get('epoch')} refused "
                                                  f"(the study runs at epoch {self.epoch})"}
        task = None if m.get("task") is None else (int(m["task"][0]), int(m["task"][1]))
        try:
            if m["op"] == "read":
                return {"events": [_event_to_wire(e) for e in self.storage.read(int(m["after"]))]}
            if m["op"] == "start":
                assert task is not None
                return self._start(task, m)
            with self._lock:
                current = None if task is None else self._current.get(task)
            if task is not None and current != m.get("attempt"):
                return {"error": "stale", "message": f"attempt of trial {task[0]} fold {task[1]} "
                                                      f"no longer current: ignored"}
            kind = EventKind(m["kind"])
            reply: dict[str, Any] = {"id": self.storage.append(kind, int(m["number"]), m["payload"])}
            if m.get("after") is not None:
                reply["events"] = [_event_to_wire(e) for e in self.storage.read(int(m["after"]))]
            return reply
        except DuplicateEventError as exc:
            return {"error": "duplicate", "message": str(exc)}
        except StorageError as exc:
            self.error = self.error or exc
            return {"error": "storage", "message": str(exc)}
        except Exception as exc:  # a malformed request: the worker's task fails with it
            return {"error": "bad", "message": f"{type(exc).__name__}: {exc}"}

    def _start(self, task: tuple[int, int], m: dict[str, Any]) -> dict[str, Any]:
        number, fold = task
        s = self.study
        trial = s._replay.trial(number)
        done = {f.fold: f for f in trial.folds}
        if trial.state is not TrialState.RUNNING or fold in done:
            # recorded already (the worker died after recording): nothing to run
            return {"go": False}
        with self._lock:
            died = task in self._current  # started, never collected: its worker died
            previous = self._running.get(task, (0.0, None))[1]
            blamed = died and previous not in self._ended
        if blamed:
            deaths = self.deaths[task] = self.deaths.get(task, 0) + 1
            if deaths > self.max_retries:
                self.storage.append(EventKind.FOLD_FINISHED, number, {
                    "fold": fold, "repeat": int(m["repeat"]), "seed": int(m["seed"]), "state": TrialState.FAILED.value,
                    "metrics": {}, "error": f"{WORKER_DIED}; {deaths} attempt(s)", "duration": 0.0})
                return {"go": False}
        if died:  # drop the killed attempt's reports and decisions, then run it again
            self.storage.append(EventKind.TRIAL_RESTARTED, number, {"worker_died": True, "fold": fold})
        with self._lock:
            self._current[task] = m["attempt"]
            self._running[task] = (time.monotonic(), m.get("worker"))
        return {"go": True}

