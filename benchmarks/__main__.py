"""Run every benchmark: ``python -m benchmarks [--quick]``.

Each prints its own table, with the peer measured in the same run and the ratio.
The full sample-efficiency benchmark (every peer, 14 problems, 10 seeds, budget 100)
takes hours on 2 cores: narrow it with its --problems/--methods/--budgets flags.
"""

from __future__ import annotations

import importlib
import sys
import time

BENCHMARKS = (
    "bench_study_overhead",
    "bench_gp_overhead",
    "bench_stopping",
    "bench_variance",
    "bench_sample_efficiency",
    "bench_throughput",
    "bench_pruned_gp",
    "bench_aa",
)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    for name in BENCHMARKS:
        print(f"\n=== {name} {' '.join(argv)} ===", flush=True)
        start = time.perf_counter()
        importlib.import_module(f"benchmarks.{name}").main(argv)
        print(f"({name}: {time.perf_counter() - start:.0f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
