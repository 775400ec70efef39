"""The public surface: an explicit __all__, and a light `import hpstudy`."""

from __future__ import annotations

import subprocess
import sys

import hpstudy


def test_all_names_exist_and_are_sorted():
    assert hpstudy.__all__ == sorted(hpstudy.__all__)
    for name in hpstudy.__all__:
        assert hasattr(hpstudy, name), name


def test_public_names_are_exactly_all():
    public = {n for n in dir(hpstudy) if not n.startswith("_")}
    modules = {n for n in public if type(getattr(hpstudy, n)).__name__ == "module"}
    assert public - modules == set(hpstudy.__all__) - {"__version__"}


def test_import_does_not_import_heavy_libraries():
    code = ("import sys, hpstudy, hpstudy.integrations, hpstudy.optimizers, hpstudy.stopping; "
            "heavy = [m for m in ('tensorflow', 'keras', 'dask', 'distributed', 'skopt', 'torch', "
            "'optuna', 'matplotlib', 'pandas', 'sklearn', 'statsmodels', 'scipy') "
            "if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_errors_are_builtin_subclasses():
    assert issubclass(hpstudy.ConfigError, ValueError)
    assert issubclass(hpstudy.ConfigError, hpstudy.HpstudyError)
    assert issubclass(hpstudy.StorageError, hpstudy.HpstudyError)
