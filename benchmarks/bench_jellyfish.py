"""The jellyfish example on a CPU: the feature cache, the input pipeline, the baseline.

Run: ``python -m benchmarks.bench_jellyfish [--quick] [--parts 1,2,3]`` (embedded 128 px
data set).

1. Seconds per frozen-base trial (MobileNetV2, alpha 0.35, random base, adam, 5 epochs,
   Train -> valid), with and without the feature cache, and the val accuracy of each
   (the same model, so the same result). Target: the cached trial at least 5x faster.
2. Images per second through the file pipeline (read, decode, resize), first pass and
   later passes (epochs), with and without ``cache()`` and ``prefetch()``.
3. The colour-histogram + HOG baseline against the small CNN (Train -> valid, test):
   seconds to train, accuracies.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


class _Quiet:
    trial_number, fold = 0, None

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed

    def report(self, step: int, value: float) -> None:
        pass


def bench_cache(img_size: int, epochs: int) -> list[tuple[str, float, float]]:
    from examples.jellyfish.objective import JellyfishObjective

    params = {"model_name": "MobileNetV2", "img_size": img_size, "mobilenet_alpha": 0.35,
              "fine_tune_layers": 0, "dropout": 0.3, "epochs": epochs, "batch_size": 32,
              "optimizer": "adam", "learning_rate": 1e-3}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        cached = JellyfishObjective(cache_dir=tmp, threads=os.cpu_count())
        uncached = JellyfishObjective(feature_cache=False, threads=os.cpu_count())
        for name, obj in (("uncached (base runs every epoch)", uncached),
                          ("cached, first trial (computes features)", cached),
                          ("cached, later trials", cached)):
            out = obj(params, _Quiet())
            rows.append((name, out["seconds"], out["val_accuracy"]))
    return rows


def bench_pipeline(img_size: int, passes: int = 5) -> list[tuple[str, float, float]]:
    """Images/s of the file pipeline: the first pass and the later ones (epochs)."""
    from examples.jellyfish.data import file_dataset, scan

    images = scan()
    rows = []
    for cache, prefetch in ((False, False), (False, True), (True, False), (True, True)):
        ds = file_dataset(images.paths, images.labels, img_size, 32, cache=cache,
                          prefetch=prefetch)
        rates = []
        for _ in range(passes):
            start = time.perf_counter()
            n = sum(int(x.shape[0]) for x, _y in ds)
            rates.append(n / (time.perf_counter() - start))
        rows.append((f"cache={cache}, prefetch={prefetch}", rates[0],
                     len(rates[1:]) / sum(1 / r for r in rates[1:])))
    return rows


def bench_baseline(epochs: int) -> list[tuple[str, float, float, float]]:
    from examples.jellyfish.objective import JellyfishObjective

    obj = JellyfishObjective(threads=os.cpu_count())
    rows = []
    for name, params in (
        ("ColourHOG, SVC C=10 (64 px)", {"model_name": "ColourHOG", "img_size": 64,
                                        "baseline_clf": "svc", "baseline_C": 10.0}),
        ("ColourHOG, logreg C=1 (64 px)", {"model_name": "ColourHOG", "img_size": 64,
                                          "baseline_clf": "logreg", "baseline_C": 1.0}),
        (f"SmallCNN w16 d3, {epochs} epochs (64 px)", {
            "model_name": "SmallCNN", "img_size": 64, "cnn_width": 16, "cnn_depth": 3,
            "epochs": epochs, "batch_size": 32, "optimizer": "adam", "learning_rate": 3e-3,
            "dropout": 0.3}),
        (f"SmallCNN w16 d3 + light aug, {epochs} epochs", {
            "model_name": "SmallCNN", "img_size": 64, "cnn_width": 16, "cnn_depth": 3,
            "epochs": epochs, "batch_size": 32, "optimizer": "adam", "learning_rate": 3e-3,
            "dropout": 0.3, "augment": "light"}),
    ):
        out = obj(params, _Quiet())
        rows.append((name, out["seconds"], out["val_accuracy"], out["test_accuracy"]))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--parts", default="1,2,3", help="which parts to run, e.g. 2 or 1,3")
    args = parser.parse_args(argv)
    parts = set(args.parts.split(","))
    size, epochs = (64, 3) if args.quick else (96, 5)
    if "1" in parts:
        print(f"1. Frozen-base trial, MobileNetV2 alpha 0.35, {size} px, {epochs} epochs, "
              f"900 Train images -> 39 valid")
        rows = bench_cache(size, epochs)
        print(f"{'':42} {'seconds':>8} {'val_acc':>8}")
        for name, sec, acc in rows:
            print(f"{name:42} {sec:8.2f} {acc:8.3f}")
        print(f"speed-up of a later cached trial: {rows[0][1] / rows[2][1]:.1f}x")
    if "2" in parts:
        print("\n2. File pipeline (read, decode, resize to 96 px, batch 32), 979 images, "
              "5 passes")
        print(f"{'images/s':42} {'pass 1':>8} {'2-5':>8}")
        for name, first, later in bench_pipeline(96):
            print(f"{name:42} {first:8.0f} {later:8.0f}")
    if "3" in parts:
        print("\n3. Baseline vs small CNN, Train -> valid (39) and test (40)")
        print(f"{'':42} {'seconds':>8} {'val_acc':>8} {'test_acc':>8}")
        for name, sec, val, test in bench_baseline(10 if args.quick else 20):
            print(f"{name:42} {sec:8.2f} {val:8.3f} {test:8.3f}")
    return 0


if __name__ == "__main__":
    main()
