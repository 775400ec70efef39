"""Objectives of tests/test_study_control.py (module-level: worker processes import them).

The folder for marks is $HPSTUDY_TEST_MARKS: ``started-N`` when trial N starts,
``finished-N`` when it returns; ``release`` lets the waiting objectives return.
"""

from __future__ import annotations

import os
import time


def _mark(name: str) -> None:
    with open(os.path.join(os.environ["HPSTUDY_TEST_MARKS"], name), "w"):
        pass


def one_hangs(params, ctx):
    """Trial $HPSTUDY_TEST_HANG_TRIAL (default 0) sleeps $HPSTUDY_TEST_HANG_S seconds (default
    120: far past any trial_timeout); every trial returns 2x + 1."""
    hang = int(os.environ.get("HPSTUDY_TEST_HANG_TRIAL", "0"))
    _mark(f"started-{ctx.trial_number}")
    if ctx.trial_number == hang:
        time.sleep(float(os.environ.get("HPSTUDY_TEST_HANG_S", "120")))
    _mark(f"finished-{ctx.trial_number}")
    return 2.0 * params["x"] + 1.0


def wait_for_release(params, ctx):
    """Marks its start, waits (up to 120 s) until ``release`` exists, then returns a pure
    function of x."""
    folder = os.environ["HPSTUDY_TEST_MARKS"]
    _mark(f"started-{ctx.trial_number}")
    deadline = time.monotonic() + 120
    while not os.path.exists(os.path.join(folder, "release")):
        if time.monotonic() > deadline:
            raise TimeoutError("never released")
        time.sleep(0.01)
    _mark(f"finished-{ctx.trial_number}")
    return 3.0 * params["x"] - 1.0


def wrong_metric(params, ctx):
    """Returns a dict without the sweep's metric (as a mistyped ``monitor=`` would)."""
    return {"val_accuracy": params["x"]}
