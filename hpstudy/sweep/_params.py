"""Parse a W&B ``parameters:`` mapping into hpstudy dimensions.

Private: :func:`hpstudy.sweep.space_from_dict` and :class:`hpstudy.sweep.Sweep`
call :func:`parse_parameters`. The semantics follow the W&B sweeps engine
(``wandb/sweeps``, ``params.py`` and ``config/schema.json``); docs/sweeps.rst has
the table.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from hpstudy._validation import check_exact_int, check_finite_value, is_number, plain, short
from hpstudy.errors import ConfigError, did_you_mean
from hpstudy.space import Beta, Categorical, Constant, Dimension, Integer, LogNormal, Normal, Real

__all__ = ["DISTRIBUTIONS", "MAX_PARAMETERS", "SweepDeprecationWarning", "parse_parameters"]

MAX_DEPTH = 32
#: The most parameters (group members included) one sweep may hold.
MAX_PARAMETERS = 10_000
_SIMPLE = re.compile(r"[A-Za-z0-9_.-]{1,60}")

# distribution -> (required keys, optional keys with their W&B defaults)
DISTRIBUTIONS: dict[str, tuple[tuple[str, ...], dict[str, Any]]] = {
    "constant": (("value",), {}),
    "categorical": (("values",), {"probabilities": None, "ordered": None}),
    "categorical_w_probabilities": (("values", "probabilities"), {"ordered": None}),
    "int_uniform": (("min", "max"), {}),
    "uniform": (("min", "max"), {}),
    "q_uniform": (("min", "max"), {"q": 1.0}),
    "log_uniform": (("min", "max"), {}),
    "log_uniform_values": (("min", "max"), {}),
    "q_log_uniform": (("min", "max"), {"q": 1.0}),
    "q_log_uniform_values": (("min", "max"), {"q": 1.0}),
    "inv_log_uniform": (("min", "max"), {}),
    "inv_log_uniform_values": (("min", "max"), {}),
    "normal": ((), {"mu": 0.0, "sigma": 1.0}),
    "q_normal": ((), {"mu": 0.0, "sigma": 1.0, "q": 1.0}),
    "log_normal": ((), {"mu": 0.0, "sigma": 1.0}),
    "q_log_normal": ((), {"mu": 0.0, "sigma": 1.0, "q": 1.0}),
    "beta": ((), {"a": 1.0, "b": 1.0}),
    "q_beta": ((), {"a": 1.0, "b": 1.0, "q": 1.0}),
    # hpstudy extension (the form Integer(log=True).to_dict() writes)
    "int_log_uniform_values": (("min", "max"), {}),
}

# W&B's PARAM_DEPRECATION_MAP (sweeps/params.py): exponent bounds -> value bounds
_DEPRECATED = {"log_uniform": "log_uniform_values", "q_log_uniform": "q_log_uniform_values",
               "inv_log_uniform": "inv_log_uniform_values"}


class SweepDeprecationWarning(UserWarning):
    """A sweep file uses a form W&B deprecates (shown by default, unlike DeprecationWarning)."""


_POSITIVE_MIN = {"log_uniform_values", "q_log_uniform_values", "inv_log_uniform_values",
                 "int_log_uniform_values"}


def _keyname(key: Any) -> str:
    """A key (or value) as shown in messages: bare when simple, else a short repr."""
    if isinstance(key, str) and _SIMPLE.fullmatch(key):
        return key
    return short(key)


def parse_parameters(d: Any, path: str = "parameters") -> dict[str, Any]:
    """Read a W&B ``parameters`` mapping into ``{key: dimension or group mapping}``.

    A spec holding ``parameters`` is a group (a nested mapping); every other key,
    dotted or not, is a literal parameter name, as in the W&B engine.

    Parameters
    ----------
    d : object
        The mapping (anything: it is checked).
    path : str
        The key path used in error messages.

    Returns
    -------
    dict
        What :class:`~hpstudy.space.SearchSpace` takes.

    Raises
    ------
    ConfigError
        Naming the key path and the rule.
    """
    return _parse_into(d, path, depth=0, count=[0])


def _parse_into(d: Any, path: str, depth: int, count: list[int]) -> dict[str, Any]:
    if depth > MAX_DEPTH:
        raise ConfigError(f"{path}: nested deeper than {MAX_DEPTH} levels")
    if not isinstance(d, Mapping):
        raise ConfigError(f"{path}: must be a mapping of parameter names to specs "
                          f"(got {type(d).__name__})")
    if not d:
        raise ConfigError(f"{path}: must hold at least one parameter")
    out: dict[str, Any] = {}
    count[0] += len(d)
    if count[0] > MAX_PARAMETERS:
        raise ConfigError(f"{path}: a sweep may hold at most {MAX_PARAMETERS:,} parameters "
                          f"(got more)")
    for name, spec in d.items():
        if not isinstance(name, str) or not name.strip() or any(not p for p in name.split(".")):
            raise ConfigError(f"{path}: parameter names must be non-empty strings without "
                              f"empty dotted parts (got {short(name)})")
        where = f"{path}.{name}"
        if isinstance(spec, Mapping) and "parameters" in spec:
            extra = [k for k in spec if k != "parameters"]
            if extra:
                raise ConfigError(f"{where}.{_keyname(extra[0])}: unknown key next to "
                                  f"'parameters' (a group holds only 'parameters')")
            out[name] = _parse_into(spec["parameters"], f"{where}.parameters", depth + 1, count)
        else:
            out[name] = parse_parameter(spec, where)
    return out


def _infer(spec: Mapping[str, Any], where: str) -> str:
    if "values" in spec:
        return "categorical"
    if "value" in spec:
        return "constant"
    if "min" in spec or "max" in spec:
        for key in ("min", "max"):
            if key not in spec:
                raise ConfigError(f"{where}.{key}: required (min and max go together)")
        lo, hi = plain(spec["min"]), plain(spec["max"])
        both_int = all(isinstance(v, int) and not isinstance(v, bool) for v in (lo, hi))
        return "int_uniform" if both_int else "uniform"
    keys = ", ".join(_keyname(k) for k in spec) or "none"
    raise ConfigError(f"{where}: cannot infer the distribution (keys: {keys}); give "
                      f"'distribution', or 'values', 'value', or 'min' and 'max'")


def parse_parameter(spec: Any, where: str) -> Dimension:
    """One W&B parameter spec (a mapping) to a dimension."""
    if not isinstance(spec, Mapping):
        raise ConfigError(f"{where}: must be a mapping such as {{values: [...]}} or "
                          f"{{distribution: uniform, min: 0, max: 1}} (got {type(spec).__name__})")
    for key in spec:
        if not isinstance(key, str):
            raise ConfigError(f"{where}: keys must be strings (got {short(key)})")
    if "distribution" in spec:
        dist = plain(spec["distribution"])
        if not isinstance(dist, str) or dist not in DISTRIBUTIONS:
            raise ConfigError(f"{where}.distribution: must be one of "
                              f"{', '.join(DISTRIBUTIONS)} (got {short(dist)})"
                              + (did_you_mean(dist, DISTRIBUTIONS)
                                 if isinstance(dist, str) else ""))
    else:
        dist = _infer(spec, where)
    required, optional = DISTRIBUTIONS[dist]
    allowed = ("distribution", *required, *optional)
    for key in spec:
        if key not in allowed:
            raise ConfigError(f"{where}.{key}: unknown key for {dist}; allowed: "
                              f"{', '.join(allowed)}{did_you_mean(key, allowed)}")
    for key in required:
        if key not in spec:
            raise ConfigError(f"{where}.{key}: required for {dist}")
    args = {**optional, **{k: plain(v) for k, v in spec.items() if k != "distribution"}}
    if dist in _DEPRECATED:
        warnings.warn(f"{where}: {dist} is deprecated in W&B (its min and max are natural-log "
                      f"exponents); use {_DEPRECATED[dist]} with the values themselves",
                      SweepDeprecationWarning, stacklevel=2)
    try:
        return _build(dist, args, where)
    except ConfigError as exc:
        message = str(exc)
        if message.startswith(where):
            raise
        for ours, theirs in (("low", "min"), ("high", "max")):
            if message.startswith(f"{ours}:"):
                message = theirs + message[len(ours):]
        raise ConfigError(f"{where}.{message}") from None


def _num(args: dict, key: str, where: str, dist: str) -> int | float:
    return check_finite_value(args[key], f"{where}.{key}")


def _bounds(args: dict, where: str, dist: str) -> tuple[int | float, int | float]:
    lo, hi = _num(args, "min", where, dist), _num(args, "max", where, dist)
    if not lo < hi:
        raise ConfigError(f"{where}.min: must be < max for {dist} (got min={lo!r}, max={hi!r})")
    if dist in _POSITIVE_MIN and lo <= 0:
        raise ConfigError(f"{where}.min: must be > 0 for {dist} (got {lo!r})")
    return lo, hi


def _exp(x: float, key: str, where: str, dist: str) -> float:
    value = math.exp(x) if x < 709.0 else math.inf
    if not (math.isfinite(value) and value > 0):
        raise ConfigError(f"{where}.{key}: exp({x!r}) is not a positive finite float for "
                          f"{dist} (its min and max are natural-log exponents)")
    return value


def _q(args: dict, where: str) -> int | float:
    q = check_finite_value(args["q"], f"{where}.q")
    if q <= 0:
        raise ConfigError(f"{where}.q: must be > 0 (got {q!r})")
    return q


def _build(dist: str, args: dict[str, Any], where: str) -> Dimension:
    if dist == "constant":
        return Constant(args["value"])
    if dist in ("categorical", "categorical_w_probabilities"):
        values, probs = args["values"], args.get("probabilities")
        if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, Sequence):
            raise ConfigError(f"{where}.values: must be a list (got {type(values).__name__})")
        if probs is not None and (isinstance(probs, (str, bytes, Mapping))
                                  or not isinstance(probs, Sequence)):
            raise ConfigError(f"{where}.probabilities: must be a list of numbers "
                              f"(got {type(probs).__name__})")
        return Categorical(tuple(values), probabilities=None if probs is None else tuple(probs),
                           ordered=args.get("ordered"))
    if dist in ("int_uniform", "int_log_uniform_values"):
        low = check_exact_int(args["min"], f"{where}.min")
        high = check_exact_int(args["max"], f"{where}.max")
        _bounds(args, where, dist)
        return Integer(low, high, log=dist == "int_log_uniform_values")
    if dist in ("normal", "q_normal", "log_normal", "q_log_normal"):
        mu = _num(args, "mu", where, dist)
        sigma = _num(args, "sigma", where, dist)
        if sigma <= 0:
            raise ConfigError(f"{where}.sigma: must be > 0 for {dist} (got {sigma!r})")
        q = _q(args, where) if dist.startswith("q_") else None
        cls = LogNormal if "log" in dist else Normal
        return cls(mu, sigma, q=q)
    if dist in ("beta", "q_beta"):
        a, b = _num(args, "a", where, dist), _num(args, "b", where, dist)
        for key, value in (("a", a), ("b", b)):
            if value <= 0:
                raise ConfigError(f"{where}.{key}: must be > 0 for {dist} (got {value!r})")
        return Beta(a, b, q=_q(args, where) if dist == "q_beta" else None)
    # the uniform family
    lo, hi = _bounds(args, where, dist)
    q = _q(args, where) if dist.startswith("q_") else None
    if dist in ("uniform", "q_uniform"):
        return Real(lo, hi, q=q)
    if dist in ("log_uniform", "q_log_uniform"):  # X = exp(U(min, max))
        return Real(_exp(lo, "min", where, dist), _exp(hi, "max", where, dist), log=True, q=q)
    if dist == "inv_log_uniform":  # X = exp(-U(min, max)): log-uniform on [e^-max, e^-min]
        return Real(_exp(-hi, "max", where, dist), _exp(-lo, "min", where, dist), log=True)
    # log_uniform_values, q_log_uniform_values, inv_log_uniform_values (the engine's
    # inv_log_uniform_values is exp(-U(-log max, -log min)): log-uniform on [min, max])
    if not is_number(hi) or not math.isfinite(math.log(hi)):  # pragma: no cover - checked above
        raise ConfigError(f"{where}.max: must be a finite number")
    return Real(lo, hi, log=True, q=q)
