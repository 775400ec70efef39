"""Objectives shared by the tests; module-level so worker processes can import them."""

from __future__ import annotations

import math
import os
import time


def quadratic(params, ctx):
    """Maximum 0 at x = 0.3; y is ignored when present."""
    return -((params["x"] - 0.3) ** 2)


def quadratic_with_metrics(params, ctx):
    return {"score": -((params["x"] - 0.3) ** 2), "aux": float(ctx.seed % 7)}


def sometimes_bad(params, ctx):
    """Fails in several ways depending on the trial number."""
    kind = ctx.trial_number % 5
    if kind == 1:
        raise RuntimeError("boom")
    if kind == 2:
        return math.nan
    if kind == 3:
        return "not a number"
    if kind == 4:
        return math.inf
    return params["x"]


def fold_mean(params, ctx):
    """The value depends on the fold, so the mean over folds is checkable."""
    return params["x"] + ctx.fold.index


def reporting(params, ctx):
    """Reports 10 steps of a curve rising to x."""
    value = 0.0
    for step in range(1, 11):
        value = params["x"] * (1 - 0.5 ** step)
        ctx.report(step, value)
    return value


def slow_deterministic(params, ctx):
    """Sleeps a little (so a kill lands mid-trial), reports 3 values, returns a pure function
    of params (``x``, or ``zeta`` in the resume driver's space). Under Hyperband with min_iter 2
    the weaker trials are pruned at iteration 2."""
    time.sleep(float(os.environ.get("HPSTUDY_TEST_SLEEP", "0.02")))
    x = params["x"] if "x" in params else params["zeta"]
    for step in range(3):
        ctx.report(step, x * step)
    return math.sin(5 * x) + x


def dies(params, ctx):
    """Kills its own worker process on trial 1."""
    if ctx.trial_number == 1:
        os._exit(3)
    return params["x"]


def reporting_folds(params, ctx):
    """Reports 6 steps of a curve rising to x, a little higher on later folds; returns the last."""
    offset = 0.01 * (0 if ctx.fold is None else ctx.fold.index)
    value = 0.0
    for step in range(1, 7):
        value = params["x"] * (1 - 0.5 ** step) + offset
        ctx.report(step, value)
    return value


def wait_for_company(params, ctx):
    """Waits (up to 60 s, or $HPSTUDY_TEST_RENDEZVOUS_TIMEOUT) until 4 trials of its group of 4 are running at once: it fails
    unless the executor really runs 4 tasks together. The folder is $HPSTUDY_TEST_RENDEZVOUS."""
    folder = os.environ["HPSTUDY_TEST_RENDEZVOUS"]
    group = ctx.trial_number // 4
    with open(os.path.join(folder, f"{group}-{ctx.trial_number}"), "w"):
        pass
    deadline = time.monotonic() + float(os.environ.get("HPSTUDY_TEST_RENDEZVOUS_TIMEOUT", "60"))
    while sum(name.startswith(f"{group}-") for name in os.listdir(folder)) < 4:
        if time.monotonic() > deadline:
            raise TimeoutError("the other 3 tasks of the group never started")
        time.sleep(0.01)
    return params["x"]
