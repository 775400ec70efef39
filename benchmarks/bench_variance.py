"""Closed-form (balanced) variance components vs statsmodels MixedLM, same data.

Run ``python -m benchmarks.bench_variance`` (``--quick`` for a smoke run,
``--coverage`` to also measure the coverage of the intervals by simulation). The
data: ``n_models`` architectures x ``configs`` configurations x ``folds`` folds
(model fixed, configuration nested in model, fold crossed), the shape of a
study. Prints a table with each solver's seconds, the speed ratio and the
largest relative difference between their estimates.
"""

from __future__ import annotations

import argparse
import time

from hpstudy.stats import simulate_study, variance_components


def _long(configs: int, folds: int, seed: int):
    import numpy as np
    import pandas as pd

    frame = simulate_study(model_effects=(0.0, -0.02), configs_per_model=configs // 2,
                           n_folds=folds, seed=seed)
    return pd.DataFrame({"y": frame["value"].to_numpy(), "model": frame["params.model_name"],
                         "config": frame["number"].to_numpy(),
                         "fold": frame["fold"].to_numpy().astype(np.int64)})


def run(configs: int, folds: int, seed: int = 0) -> dict:
    """Time both solvers on one data set; return the row of the table."""
    data = _long(configs, folds, seed)
    kw = dict(random=["config", "fold"], fixed=["model"], nested={"config": "model"})
    variance_components(_long(8, 3, seed), "y", solver="balanced", **kw)  # warm-up: lazy imports
    t0 = time.perf_counter()
    fast = variance_components(data, "y", solver="balanced", **kw)
    t1 = time.perf_counter()
    slow = variance_components(data, "y", solver="mixedlm", n_boot=0, **kw)
    t2 = time.perf_counter()
    diffs = [abs(fast.components[k] - slow.components[k]) / fast.total for k in fast.components]
    diffs.append(abs(fast.residual - slow.residual) / fast.total)
    return {"rows": len(data), "configs": configs, "folds": folds, "closed_s": t1 - t0,
            "mixedlm_s": t2 - t1, "ratio": (t2 - t1) / (t1 - t0), "max_rel_diff": max(diffs),
            "reml_diff": abs(fast.reml_criterion - slow.reml_criterion)}


def coverage(n_draws: int = 200, n_unbalanced: int = 40, n_boot: int = 100) -> None:
    """Print the measured coverage of the 95% intervals over simulated studies."""
    import numpy as np
    import pandas as pd

    from hpstudy.stats import decompose

    # effects 0 and -0.02: over the design's scores they vary by 0.01^2 (sum((a-a_bar)^2)/k);
    # their unbiased spread sum((a-a_bar)^2)/(k-1) is 0.02^2/2
    truth = {"model": 0.01**2, "tuning": 0.03**2, "folds": 0.01**2, "residual": 0.02**2}
    hits = dict.fromkeys([*truth, "model spread"], 0)
    shares = []
    for seed in range(n_draws):
        frame = simulate_study(model_effects=(0.0, -0.02), configs_per_model=20, n_folds=5,
                               tuning_sd=0.03, fold_sd=0.01, noise_sd=0.02, seed=seed)
        d = decompose(frame, n_boot=10)
        for k, v in truth.items():
            hits[k] += d.sources[k][1] <= v <= d.sources[k][2]
        hits["model spread"] += d.model_spread[1] <= 0.02**2 / 2 <= d.model_spread[2]
        shares.append([d.shares[k] for k in truth])
    true_total = sum(truth.values())
    mean = np.mean(shares, axis=0)
    print(f"\ncoverage of 95% intervals, decompose() on {n_draws} simulated studies "
          "(2 models fixed, 20 configs each, 5 folds; closed form, MLS intervals):")
    print(f"  {'source':<12} {'coverage':>8} {'mean share':>10} {'true share':>10}")
    for i, (k, h) in enumerate(hits.items()):
        if k in truth:
            print(f"  {k:<12} {h / n_draws:>8.3f} {mean[i]:>10.3f} {truth[k] / true_total:>10.3f}")
        else:
            print(f"  {k:<12} {h / n_draws:>8.3f}")
    # unbalanced one-way design: MixedLM + parametric bootstrap percentile intervals
    sizes = np.array([2, 3, 3, 4, 5, 5, 6, 8])
    groups = np.repeat(np.arange(len(sizes)), sizes)
    hit_g = hit_r = 0
    for seed in range(n_unbalanced):
        rng = np.random.default_rng(1000 + seed)
        y = rng.normal(0, 1.0, len(sizes))[groups] + rng.normal(0, 1.0, len(groups))
        r = variance_components(pd.DataFrame({"g": groups, "y": y}), "y", random=["g"],
                                n_boot=n_boot, seed=seed)
        hit_g += r.intervals["g"][0] <= 1.0 <= r.intervals["g"][1]
        hit_r += r.intervals["Residual"][0] <= 1.0 <= r.intervals["Residual"][1]
    print(f"coverage, unbalanced one-way (8 groups of 2-8, MixedLM, {n_boot} bootstrap refits), "
          f"{n_unbalanced} draws: group {hit_g / n_unbalanced:.3f}, "
          f"residual {hit_r / n_unbalanced:.3f}")


def main(argv: list[str] | None = None) -> None:
    """Print the benchmark table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes only (smoke run)")
    parser.add_argument("--coverage", action="store_true",
                        help="also measure interval coverage over simulated studies")
    args = parser.parse_args(argv)
    sizes = [(50, 5)] if args.quick else [(50, 5), (200, 10), (500, 15)]
    head = (f"{'rows':>6} {'configs':>7} {'folds':>5} {'closed s':>9} {'MixedLM s':>10} "
            f"{'ratio':>8} {'max rel diff':>13} {'REML crit diff':>15}")
    print("variance components: closed form (balanced) vs statsmodels MixedLM (REML)")
    print(head)
    print("-" * len(head))
    for configs, folds in sizes:
        r = run(configs, folds)
        print(f"{r['rows']:>6} {r['configs']:>7} {r['folds']:>5} {r['closed_s']:>9.4f} "
              f"{r['mixedlm_s']:>10.2f} {r['ratio']:>7.1f}x {r['max_rel_diff']:>13.2e} "
              f"{r['reml_diff']:>15.2e}")
    print("max rel diff: largest |difference| of a variance estimate over the total variance.")
    if args.coverage:
        coverage(n_draws=50 if args.quick else 200, n_unbalanced=10 if args.quick else 40,
                 n_boot=50 if args.quick else 100)


if __name__ == "__main__":
    main()
