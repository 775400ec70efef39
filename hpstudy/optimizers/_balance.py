"""Balanced designs: as many trials for each value of a categorical parameter."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hpstudy.errors import ConfigError

if TYPE_CHECKING:
    from hpstudy.space import SearchSpace
    from hpstudy.trials import Trials

__all__ = ["balance_levels", "check_balance", "level_counts", "next_level"]


def check_balance(value: Any) -> str | None:
    """None or a parameter name."""
    if value is not None and (not isinstance(value, str) or not value):
        raise ConfigError(f"balance: must be a parameter name or None (got {value!r})")
    return value


def balance_levels(space: SearchSpace, name: str) -> tuple[Any, ...]:
    """The values of the categorical parameter ``name``; ConfigError when it is not one."""
    if name not in space.names:
        raise ConfigError(f"balance: no parameter {name!r} in the space "
                          f"(parameters: {', '.join(space.names)})")
    values = getattr(space[name], "values", None)
    if not isinstance(values, tuple) or type(space[name]).__name__ != "Categorical":
        raise ConfigError(f"balance: parameter {name!r} must be categorical (values: [...]) "
                          f"(got {type(space[name]).__name__})")
    return values


def next_level(levels: tuple[Any, ...], counts: dict[int, int]) -> int:
    """The index of the level with the fewest trials so far (the first one on ties)."""
    return min(range(len(levels)), key=lambda i: (counts.get(i, 0), i))


def level_counts(levels: tuple[Any, ...], name: str, trials: Trials) -> dict[int, int]:
    """Trials so far per level index (trials of any state count: the design is balanced
    in trials asked for)."""
    counts = dict.fromkeys(range(len(levels)), 0)
    for t in trials:
        value = t.params.get(name)
        for i, level in enumerate(levels):
            if value == level and type(value) is type(level):
                counts[i] += 1
                break
    return counts
