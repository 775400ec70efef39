"""The Sweep: a W&B sweep file read into a search space and settings."""

from __future__ import annotations

import functools
import math
import os
import re
import stat
from collections.abc import Mapping
from typing import Any

import attrs

from hpstudy._validation import plain, short
from hpstudy.errors import ConfigError, did_you_mean
from hpstudy.space import Categorical, SearchSpace
from hpstudy.sweep._params import _keyname, parse_parameters
from hpstudy.sweep._records import EarlyTerminate, Metric, _opt_int, parse_early_terminate

__all__ = ["MAX_CONFIG_BYTES", "METHODS", "EarlyTerminate", "Metric", "Sweep", "read_config_text",
           "space_from_dict"]

#: The search methods a local study runs.
METHODS = ("bayes", "grid", "random")
#: W&B keys a local run accepts and keeps (for :meth:`Sweep.to_dict`) but does not use.
IGNORED_KEYS = {
    "program": str, "command": list, "entity": str, "project": str, "name": str,
    "description": str, "apiVersion": str, "kind": str, "controller": dict, "job": str,
    "image_uri": str,
}
#: The largest sweep file (bytes) or text (characters) read.
MAX_CONFIG_BYTES = 10_000_000

_KNOWN = ("method", "metric", "parameters", "early_terminate", "run_cap", *IGNORED_KEYS)
#: hpstudy's own top-level keys (W&B has none of them), read as the W&B ones are.
_KNOWN = (*_KNOWN, "balance", "trial_timeout", "max_failures")


_EXPONENT = re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$")
_INF_WORDS = re.compile(r"^[-+]?\.(?:inf|Inf|INF)$")


@functools.cache
def _yaml_io() -> tuple[Any, type, type]:
    """PyYAML, a SafeLoader and a SafeDumper that agree on what a plain scalar means.

    The loader reads ``1e-5`` as a float (YAML 1.2 style, as W&B's server does)
    unless it overflows: ``4e91357`` (a commit hash) stays the string it is. The
    dumper quotes every string the loader would read as something else, so
    ``Sweep.from_text(sweep.to_yaml()) == sweep`` for any string.
    """
    import yaml

    # libyaml's parser when PyYAML has it (about 10x faster on long value lists),
    # with the same safe constructors and resolvers
    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class Loader(base):  # type: ignore[valid-type,misc]
        def construct_yaml_float(self, node: Any) -> Any:
            value = super().construct_yaml_float(node)
            if math.isinf(value) and not _INF_WORDS.match(str(node.value)):
                return self.construct_scalar(node)  # out of range: a string, as in go-yaml
            return value

    class Dumper(yaml.SafeDumper):
        pass

    Loader.add_constructor("tag:yaml.org,2002:float", Loader.construct_yaml_float)
    for cls in (Loader, Dumper):
        cls.add_implicit_resolver("tag:yaml.org,2002:float", _EXPONENT, list("-+0123456789"))
    return yaml, Loader, Dumper


def read_config_text(path: str | os.PathLike[str]) -> str:
    """The text of a configuration file: a regular file of at most :data:`MAX_CONFIG_BYTES`.

    A FIFO, a device (``/dev/zero``), a directory or a larger file is refused
    before it is read past the limit, so a bad path can neither hang nor fill memory.

    Raises
    ------
    ConfigError
        Naming the file and why it cannot be read.
    """
    name = os.fspath(path)
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # before open: opening a FIFO blocks
            raise ConfigError(f"{name}: cannot read the sweep file (not a regular file)")
        with open(path, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                raise ConfigError(f"{name}: cannot read the sweep file (not a regular file)")
            data = fh.read(MAX_CONFIG_BYTES + 1)
        if len(data) > MAX_CONFIG_BYTES:
            raise ConfigError(f"{name}: larger than {MAX_CONFIG_BYTES:,} bytes, the most "
                              f"a sweep file may hold")
        return data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{name}: cannot read the sweep file ({exc})") from None


def _check_balance(space: SearchSpace, name: Any) -> None:
    """``balance``: the name of a categorical parameter of the space."""
    if not isinstance(name, str) or not name:
        raise ConfigError(f"balance: must be the name of a categorical parameter "
                          f"(got {short(name)})")
    if name not in space.names:
        raise ConfigError(f"balance: no parameter {name!r} in parameters (parameters: "
                          f"{', '.join(space.names)}){did_you_mean(name, space.names)}")
    if not isinstance(space[name], Categorical):
        raise ConfigError(f"balance: parameter {name!r} must be categorical (values: [...]) "
                          f"(got {type(space[name]).__name__})")


def _opt_seconds(value: Any, name: str) -> float | int | None:
    """None or a finite number of seconds > 0 (an integer stays one)."""
    value = plain(value)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{name}: must be a number of seconds (got {short(value)})")
    if not 0 < value < math.inf:
        raise ConfigError(f"{name}: must be a finite number of seconds > 0 (got {short(value)})")
    return value


def space_from_dict(d: Any) -> SearchSpace:
    """Build a search space from a W&B ``parameters:`` mapping.

    The inverse of :meth:`SearchSpace.to_dict <hpstudy.space.SearchSpace.to_dict>`:
    ``space_from_dict(space.to_dict()) == space``.

    Parameters
    ----------
    d : dict
        The mapping, as in a W&B sweep file (see :doc:`/sweeps`).

    Returns
    -------
    SearchSpace

    Raises
    ------
    ConfigError
        Naming the key path (``parameters.lr.min``) and the rule broken.
    """
    return SearchSpace(parse_parameters(d, "parameters"))


@attrs.frozen(kw_only=True, eq=True)
class Sweep:
    """A W&B sweep configuration: search space, method, metric and stopping.

    Build one with :meth:`from_yaml` or :meth:`from_dict`.

    Parameters
    ----------
    space : SearchSpace
        The ``parameters:`` section (group members under dotted flat names; dotted
        keys stay literal names, as in W&B).
    method : str
        ``"bayes"``, ``"grid"`` or ``"random"``.
    metric : Metric or None
        Required for ``bayes`` (as in W&B); None when the file has no metric.
    early_terminate : EarlyTerminate, dict or None
        Hyperband settings (a dict for hpstudy's extension types such as ``asha``).
    run_cap : int or None
        The most runs (trials) the sweep may start.
    balance : str or None
        An hpstudy extension (top-level ``balance: model_name``): a categorical
        parameter whose values the search balances (``balance=`` of the random,
        grid and GP optimizers; ``hpstudy run --balance`` overrides it).
    trial_timeout : float or None
        An hpstudy extension (top-level ``trial_timeout: 600``): seconds a trial
        (or one fold of it) may run before its worker process is killed and the
        trial recorded FAILED (``Study.run(trial_timeout=)``, ``--trial-timeout``).
    max_failures : int or None
        An hpstudy extension (top-level ``max_failures: 5``): stop the study after
        this many consecutive FAILED trials (``Study.run(max_failures=)``,
        ``--max-failures``).
    extras : dict
        W&B keys a local run ignores (``program``, ``command``, ``entity``,
        ``project``, ``name``, ``description``, ...), kept for :meth:`to_dict`.

    Examples
    --------
    >>> sweep = Sweep.from_dict({
    ...     "method": "random",
    ...     "metric": {"name": "val_accuracy", "goal": "maximize"},
    ...     "parameters": {"lr": {"distribution": "log_uniform_values", "min": 1e-5, "max": 1e-3},
    ...                    "batch_size": {"values": [16, 32, 64]}},
    ... })
    >>> sweep.space["batch_size"]
    Categorical(values=(16, 32, 64), probabilities=None, ordered=None)
    >>> sweep.metric.goal
    <Goal.MAXIMIZE: 'maximize'>
    """

    space: SearchSpace
    method: str
    metric: Metric | None = None
    early_terminate: EarlyTerminate | dict[str, Any] | None = None
    run_cap: int | None = None
    extras: dict[str, Any] = attrs.field(factory=dict)
    balance: str | None = None
    trial_timeout: float | None = None
    max_failures: int | None = None

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.space, SearchSpace):
            raise ConfigError(f"space: must be a SearchSpace (got {type(self.space).__name__})")
        if not isinstance(self.method, str) or self.method not in METHODS:
            hint = did_you_mean(self.method, METHODS) if isinstance(self.method, str) else ""
            extra = (" ('custom' needs W&B's scheduler, which a local run does not have)"
                     if self.method == "custom" else "")
            raise ConfigError(f"method: must be one of {', '.join(METHODS)} "
                              f"(got {short(self.method)}){hint}{extra}")
        if self.metric is not None and not isinstance(self.metric, Metric):
            raise ConfigError(f"metric: must be a Metric (got {type(self.metric).__name__})")
        if self.method == "bayes" and self.metric is None:
            raise ConfigError("metric: required for method bayes (as in W&B)")
        if self.method == "grid":
            continuous = [n for n, d in self.space.items() if d.is_continuous]
            if continuous:
                raise ConfigError(f"parameters.{continuous[0]}: grid search cannot enumerate a "
                                  f"continuous parameter (continuous: {', '.join(continuous)}); "
                                  f"use values, int_uniform or q_uniform")
            weighted = [n for n, d in self.space.items()
                        if isinstance(d, Categorical) and d.entry_probabilities is not None]
            if weighted:
                raise ConfigError(f"parameters.{weighted[0]}.probabilities: not allowed with "
                                  f"method grid (a grid visits every value once; W&B refuses "
                                  f"it too); remove probabilities or use random or bayes")
        if self.early_terminate is not None and self.metric is None:
            raise ConfigError("early_terminate: needs a metric (W&B's hyperband requires the "
                              "metric section): add metric: {name: ..., goal: minimize or "
                              "maximize} naming what the objective returns")
        object.__setattr__(self, "run_cap", _opt_int(self.run_cap, "run_cap", 1))
        if self.balance is not None:
            _check_balance(self.space, self.balance)
        object.__setattr__(self, "trial_timeout", _opt_seconds(self.trial_timeout, "trial_timeout"))
        object.__setattr__(self, "max_failures", _opt_int(self.max_failures, "max_failures", 1))
        if not isinstance(self.extras, dict):
            raise ConfigError(f"extras: must be a dict (got {type(self.extras).__name__})")

    @classmethod
    def from_dict(cls, d: Any) -> Sweep:
        """Read a W&B sweep configuration mapping.

        Parameters
        ----------
        d : dict
            The configuration, as ``yaml.safe_load`` of a sweep file gives it.

        Returns
        -------
        Sweep

        Raises
        ------
        ConfigError
            Naming the key path and the rule, e.g.
            ``parameters.lr.min: must be > 0 for log_uniform_values (got 0)``.
        """
        if not isinstance(d, Mapping):
            raise ConfigError(f"sweep config: must be a mapping with method, metric and "
                              f"parameters (got {type(d).__name__})")
        for key in d:
            if key not in _KNOWN:
                hint = did_you_mean(str(key), _KNOWN)
                why = {"metrics": " (multi-objective sweeps need W&B's custom method)",
                       "scheduler": " (custom schedulers run only on W&B)"}.get(str(key), "")
                raise ConfigError(f"{_keyname(key)}: unknown key{why}{hint}; allowed: "
                                  f"{', '.join(_KNOWN)}")
        extras: dict[str, Any] = {}
        for key, kind in IGNORED_KEYS.items():
            if key in d:
                if not isinstance(d[key], kind):
                    raise ConfigError(f"{key}: must be a {kind.__name__} "
                                      f"(got {type(d[key]).__name__})")
                extras[key] = d[key]
        if "method" not in d:
            raise ConfigError(f"method: required, one of {', '.join(METHODS)}")
        if "parameters" not in d:
            raise ConfigError("parameters: required")
        space = space_from_dict(d["parameters"])
        metric = None if d.get("metric") is None else Metric.from_dict(d["metric"])
        early = d.get("early_terminate")
        early = None if early is None else parse_early_terminate(early)
        return cls(space=space, method=plain(d["method"]), metric=metric,
                   early_terminate=early, run_cap=plain(d.get("run_cap")), extras=extras,
                   balance=plain(d.get("balance")), trial_timeout=plain(d.get("trial_timeout")),
                   max_failures=plain(d.get("max_failures")))

    @classmethod
    def from_yaml(cls, path: str | os.PathLike[str]) -> Sweep:
        """Read a W&B sweep YAML file (safely: no Python tags; see :meth:`from_text`).

        Parameters
        ----------
        path : str or path-like
            The file.

        Returns
        -------
        Sweep

        Raises
        ------
        ConfigError
            When the file cannot be read or parsed, or the config is invalid
            (the message starts with the file name).
        """
        if not isinstance(path, (str, os.PathLike)):
            raise ConfigError(f"path: must be a file path (got {type(path).__name__})")
        text = read_config_text(path)
        try:
            return cls.from_text(text)
        except ConfigError as exc:
            raise ConfigError(f"{os.fspath(path)}: {exc}") from None

    @classmethod
    def from_text(cls, text: str) -> Sweep:
        """Parse the YAML text of a sweep configuration.

        Parameters
        ----------
        text : str
            YAML (or JSON) text.

        Returns
        -------
        Sweep

        Raises
        ------
        ConfigError
            When the text is not valid YAML or the config is invalid.

        Notes
        -----
        The text is read with a ``yaml.SafeLoader`` that also reads exponent
        notation without a dot (``1e-5``) as a float, as YAML 1.2 does;
        PyYAML's YAML 1.1 rules (and so W&B) read it as the string ``"1e-5"``.
        """
        if not isinstance(text, str):
            raise ConfigError(f"text: must be a str (got {type(text).__name__})")
        if len(text) > MAX_CONFIG_BYTES:
            raise ConfigError(f"text: a sweep configuration may hold at most "
                              f"{MAX_CONFIG_BYTES:,} characters (got {len(text):,})")
        yaml, loader, _ = _yaml_io()
        try:
            data = yaml.load(text, Loader=loader)  # noqa: S506 (a SafeLoader subclass)
        except yaml.YAMLError as exc:
            raise ConfigError(f"invalid YAML: {exc}") from None
        except (RecursionError, ValueError, OverflowError) as exc:
            raise ConfigError(f"invalid YAML: {type(exc).__name__}: {exc}") from None
        return cls.from_dict(data)

    def to_dict(self) -> dict[str, Any]:
        """The W&B configuration mapping; ``Sweep.from_dict(s.to_dict()) == s``.

        Returns
        -------
        dict
        """
        out: dict[str, Any] = {"method": self.method}
        if self.metric is not None:
            out["metric"] = self.metric.to_dict()
        out["parameters"] = self.space.to_dict()
        if self.early_terminate is not None:
            et = self.early_terminate
            out["early_terminate"] = et.to_dict() if isinstance(et, EarlyTerminate) else dict(et)
        if self.run_cap is not None:
            out["run_cap"] = self.run_cap
        if self.balance is not None:
            out["balance"] = self.balance
        for key in ("trial_timeout", "max_failures"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        out.update(self.extras)
        return out

    def to_yaml(self) -> str:
        """The configuration as YAML text, readable by W&B and hpstudy.

        Safe YAML (``yaml.SafeDumper``) in the order of :meth:`to_dict`; a string
        that could read as a number (``"1e-3"``, ``"4e91357"``) is quoted, so
        ``Sweep.from_text(s.to_yaml()) == s``.

        Returns
        -------
        str
        """
        yaml, _, dumper = _yaml_io()
        return yaml.dump(self.to_dict(), Dumper=dumper, sort_keys=False)
