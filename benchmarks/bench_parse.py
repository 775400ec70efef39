"""Sweep parsing time against the file's size: linear, not quadratic.

Run ``python -m benchmarks.bench_parse`` (about 15 s on 2 cores) or ``--quick``.
For N = 1,000 ... 100,000 values of one categorical parameter (strings, then
numbers), and for N parameters of three values each, it times
``Sweep.from_text`` (YAML parsing included) and prints seconds and
microseconds per value; a linear parser keeps the per-value time flat. The
target: 10,000 values in under a second (they took 75 s when de-duplication
compared every value with every earlier one).
"""

from __future__ import annotations

import argparse
import time

from hpstudy.sweep import Sweep

HEAD = "method: random\nmetric: {name: value, goal: minimize}\nparameters:\n"


def values_text(n: int, kind: str) -> str:
    items = (f"'v{i}'" for i in range(n)) if kind == "strings" else (str(i) for i in range(n))
    return HEAD + "  c:\n    values: [" + ", ".join(items) + "]\n"


def parameters_text(n: int) -> str:
    return HEAD + "".join(f"  p{i}: {{values: [1, 2, 3]}}\n" for i in range(n))


def seconds(text: str, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        Sweep.from_text(text)
        best = min(best, time.perf_counter() - start)
    return best


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run (small sizes)")
    args = parser.parse_args(argv)
    sizes = (100, 1_000) if args.quick else (1_000, 10_000, 100_000)
    rows = []
    for what in ("strings", "numbers", "parameters"):
        for n in sizes if what != "parameters" else sizes[:-1]:
            text = values_text(n, what) if what != "parameters" else parameters_text(n)
            s = seconds(text, 1 if n >= 100_000 else 3)
            rows.append({"what": what, "n": n, "bytes": len(text), "seconds": s,
                         "us_per_item": s / n * 1e6})
    print(f"{'what':10} {'n':>8} {'bytes':>10} {'seconds':>9} {'us/item':>8}")
    for r in rows:
        print(f"{r['what']:10} {r['n']:>8,} {r['bytes']:>10,} {r['seconds']:>9.3f} "
              f"{r['us_per_item']:>8.1f}")
    if not args.quick:
        at_10k = max(r["seconds"] for r in rows if r["n"] == 10_000 and r["what"] != "parameters")
        print(f"target: 10,000 values in < 1 s -> {at_10k:.3f} s: "
              f"{'PASS' if at_10k < 1 else 'FAIL'}")
    return rows


if __name__ == "__main__":
    main()
