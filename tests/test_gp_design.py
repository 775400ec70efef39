"""The GP's initial design covers the cube evenly, and the fix it brought on Ackley (issue 10).

The sequential maximin design used the box's Euclidean distance, whose farthest
candidate sits on a face or in a corner: on 5-D Ackley, whose faces are a flat
plateau, the model then learnt nothing about the funnel and the search stayed
on the faces. The design now measures distance on continuous columns with wrap
around (a torus), so its points are spread like uniform points (as many near
the faces) yet farther apart.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from hpstudy.optimizers.gp import GPOptimizer
from hpstudy.space import Categorical, Real, SearchSpace
from hpstudy.trials import Goal, Trial, Trials, TrialState

D = 5
NAMES = ["w", "b", "q", "a", "k"]  # not alphabetical: columns follow the space's order


def _design(space: SearchSpace, seed: int, n: int) -> list[dict]:
    opt, trials = GPOptimizer(n_initial=n + 1), []
    for i in range(n):
        p = opt.ask(space, Trials(trials, goal=Goal.MINIMIZE), 1, np.random.default_rng([seed, i]))
        trials.append(Trial(number=i, params=p[0], state=TrialState.COMPLETE, value=float(i)))
    return [t.params for t in trials]


def _min_dist(U: np.ndarray) -> float:
    Dm = np.sqrt(((U[:, None] - U[None]) ** 2).sum(-1))
    np.fill_diagonal(Dm, np.inf)
    return float(Dm.min())


def test_the_initial_design_is_not_drawn_to_the_faces_of_the_box():
    space = SearchSpace({n: Real(-3.0, 5.0) for n in NAMES})
    near, dist, dist_uniform = [], [], []
    rng = np.random.default_rng(123)
    for seed in range(12):
        params = _design(space, seed, 6)
        U = np.array([[(p[n] + 3.0) / 8.0 for n in NAMES] for p in params])
        near.append(np.mean(np.minimum(U, 1.0 - U) < 0.05))
        dist.append(_min_dist(U))
        dist_uniform.append(_min_dist(rng.random(U.shape)))  # the oracle: uniform points
    # uniform points have 10 % of their coordinates within 5 % of a face; the box's
    # maximin design had 32 %
    assert np.mean(near) < 0.18
    # and it is still a space-filling design: farther apart than uniform points
    assert np.mean(dist) > 1.2 * np.mean(dist_uniform)


def test_categorical_columns_of_the_design_still_differ():
    space = SearchSpace({"x": Real(0.0, 1.0), "c": Categorical(["z", "a", "m"]),
                         "y": Real(0.0, 1.0)})
    params = _design(space, 0, 3)
    assert sorted(p["c"] for p in params) == ["a", "m", "z"]


def _ackley(x: np.ndarray) -> float:
    return float(-20.0 * math.exp(-0.2 * math.sqrt(np.mean(x * x)))
                 - math.exp(np.mean(np.cos(2.0 * math.pi * x))) + 20.0 + math.e)


@pytest.mark.slow
def test_ackley_5d_reaches_the_funnel_within_30_evaluations():
    # With the box's distance the median best value of these seeds was 20.1 (the plateau:
    # 20.6, 8.0, 4.6, 20.1, 20.7); with the wrapped one it is 5.0. GPSampler's median over
    # 10 seeds is 11.3 at 25 evaluations and 6.6 at 50.
    space = SearchSpace({n: Real(-32.768, 32.768) for n in NAMES})
    bests = []
    for seed in range(5):
        opt, trials = GPOptimizer(), []
        for i in range(30):
            rng = np.random.default_rng([seed, i])
            p = opt.ask(space, Trials(trials, goal=Goal.MINIMIZE), 1, rng)[0]
            value = _ackley(np.array([p[n] for n in NAMES]))
            trials.append(Trial(number=i, params=p, state=TrialState.COMPLETE, value=value))
        bests.append(min(t.value for t in trials))
    assert np.median(bests) < 12.0, bests


def test_the_roulette_rule_of_the_ablation_starts_at_the_best_and_draws_by_ei():
    from hpstudy.optimizers.gp._acquisition import _roulette_order

    ei = np.array([0.1, 0.5, 3.0, 1e-9, 0.25, 1e-9, 0.1, 2.0, 0.5, 0.25, 1.0])
    vals = np.log(ei)
    counts = np.zeros(len(vals))
    for seed in range(300):
        order = _roulette_order(vals, np.random.default_rng(seed), 1)
        assert order[0] == 2
        drawn = order[1:5]
        assert len(set(drawn.tolist())) == 4 and 2 not in drawn
        # then every candidate by rank, so the starts never run short
        assert order[5:].tolist() == np.argsort(-vals, kind="stable")[1:].tolist()
        counts[drawn] += 1
    # four draws without replacement, weights proportional to EI
    assert counts[[3, 5]].sum() < 3
    assert counts[7] > counts[10] > counts[1] > counts[0]
