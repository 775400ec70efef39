"""The study: ask the optimizer, run the tasks, record everything, resume after a crash.

* :class:`Study` (``_loop``), with its stored settings (``_meta``) and the
  scheduling loop of a run (``_runner``: ask, run, record, resume after a crash);
* :class:`~hpstudy.study.context.TrialContext` -- what an objective receives
  besides its parameters (``ctx.report``, ``ctx.fold``, ``ctx.seed``);
* ``_execution`` -- tasks and executors (serial, process pool, any
  ``concurrent.futures`` executor); internal.
"""

from hpstudy.study._loop import Study
from hpstudy.study.context import TrialContext

__all__ = ["Study", "TrialContext"]
