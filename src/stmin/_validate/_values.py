"""Checks of plain arguments: integers, numbers, choices, finite and count matrices."""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping

import numpy as np
import scipy.sparse as sp


def _values(x) -> np.ndarray:
    return x.data if sp.issparse(x) else np.asarray(x)


def is_int(value) -> bool:
    """Whether ``value`` is an integer (Python or NumPy), booleans excluded."""
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def check_int(
    value, name: str, *, min_value: int | None = None, max_value: int | None = None
) -> int:
    """Return ``value`` as an ``int`` within ``[min_value, max_value]``; raise otherwise.

    NumPy integers are accepted; booleans, floats (even ``2.0``) and strings are not.
    """
    if not is_int(value):
        raise ValueError(f"`{name}` must be an integer (got {value!r}).")
    value = int(value)
    if (min_value is not None and value < min_value) or (
        max_value is not None and value > max_value
    ):
        if max_value is None:
            bound = f"≥ {min_value}"
        elif min_value is None:
            bound = f"≤ {max_value}"
        else:
            bound = f"between {min_value} and {max_value}"
        raise ValueError(f"`{name}` must be an integer {bound} (got {value}).")
    return value


def check_optional_int(value, name: str, **bounds) -> int | None:
    """:func:`check_int` that lets ``None`` through."""
    return None if value is None else check_int(value, name, **bounds)


def check_number(
    value,
    name: str,
    *,
    min_value: float | None = None,
    max_value: float | None = None,
    min_inclusive: bool = True,
    max_inclusive: bool = True,
) -> float:
    """Return ``value`` as a finite ``float`` within the given bounds; raise otherwise."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ValueError(f"`{name}` must be a number (got {value!r}).")
    value = float(value)
    low_ok = min_value is None or value > min_value or (min_inclusive and value == min_value)
    high_ok = max_value is None or value < max_value or (max_inclusive and value == max_value)
    if not math.isfinite(value) or not low_ok or not high_ok:
        lo = "" if min_value is None else ("[" if min_inclusive else "(") + f"{min_value}"
        hi = "" if max_value is None else f"{max_value}" + ("]" if max_inclusive else ")")
        where = f" in {lo or '(-inf'}, {hi or 'inf)'}" if lo or hi else ""
        raise ValueError(f"`{name}` must be a finite number{where} (got {value!r}).")
    return value


def check_choice(value, name: str, choices: Collection) -> None:
    """Raise unless ``value`` is one of ``choices`` (e.g. the values of a ``Literal``)."""
    if not isinstance(value, str | int | type(None)) or value not in choices:
        raise ValueError(f"`{name}` must be one of {list(choices)} (got {value!r}).")


def check_bool(value, name: str, *, allow_none: bool = False) -> bool | None:
    """Return ``value`` as a ``bool``; raise unless it is ``True`` or ``False`` (or ``None``).

    Strings such as ``"no"`` and numbers are refused: they would silently read as true.
    """
    if value is None and allow_none:
        return None
    if not isinstance(value, bool | np.bool_):
        allowed = "True, False or None" if allow_none else "True or False"
        raise ValueError(f"`{name}` must be {allowed} (got {value!r}).")
    return bool(value)


def check_key(value, name: str = "key_added") -> str:
    """Return ``value`` if it is a non-empty string (a key of ``obs``, ``obsm``, ``uns``, …)."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"`{name}` must be a non-empty string naming a key (got {value!r}).")
    return value


def check_keys(value, name: str, *, allow_empty: bool = False) -> list[str]:
    """Return one key (a string) or a sequence of keys as a list of strings; raise otherwise."""
    keys = [value] if isinstance(value, str) else value
    if isinstance(keys, Mapping) or not isinstance(keys, Collection) or isinstance(keys, bytes):
        raise ValueError(f"`{name}` must be a string or a list of strings (got {value!r}).")
    keys = list(keys)
    bad = [k for k in keys if not isinstance(k, str)]
    if bad:
        raise ValueError(f"`{name}` must hold strings only (got {bad[:3]}).")
    if not keys and not allow_empty:
        raise ValueError(f"`{name}` is empty; pass at least one name.")
    return keys


def check_finite(x, what: str) -> None:
    """Raise if ``x`` (dense or sparse) holds NaN or infinite values."""
    values = _values(x)
    if values.dtype.kind in "fc" and not np.isfinite(values).all():
        n_bad = int((~np.isfinite(values)).sum())
        raise ValueError(
            f"{what} contains {n_bad} NaN or infinite values; remove or impute them first."
        )


def check_counts(x, what: str, *, integer: bool = True, hint: str | None = None) -> None:
    """Raise unless ``x`` looks like raw counts: finite, non-negative and integer-valued.

    ``integer=False`` accepts non-integer values (e.g. counts rescaled upstream); ``hint``
    replaces the advice of the errors (default: pass the raw counts with ``layer=``).
    """
    advice = "Pass the raw counts (e.g. `layer='counts'`)." if hint is None else hint
    values = _values(x)
    if values.dtype.kind not in "biuf":
        raise ValueError(f"{what} must be numeric raw counts (got dtype {values.dtype}).")
    check_finite(x, what)
    if values.size and values.min() < 0:
        raise ValueError(f"{what} contains negative values; raw counts are expected. {advice}")
    if (
        integer
        and values.size
        and values.dtype.kind == "f"
        and not np.all(values == np.round(values))
    ):
        if hint is None:
            advice = (
                "Pass the raw counts (e.g. `layer='counts'`), or a representation with `use_rep=`."
            )
        raise ValueError(
            f"{what} is not integer-valued; raw counts are expected, not normalised data. {advice}"
        )


def check_masking(mask_rate, replace_rate, loss_weights, n_weights: int) -> None:
    """Check the node-masking rates and the loss weights of a masked graph model."""
    check_number(
        mask_rate, "mask_rate", min_value=0, max_value=1, min_inclusive=False, max_inclusive=False
    )
    check_number(replace_rate, "replace_rate", min_value=0, max_value=1, max_inclusive=False)
    check_weights(loss_weights, "loss_weights", n_weights)


def check_weights(weights, name: str, n: int) -> tuple[float, ...]:
    """Return ``n`` non-negative finite loss weights as a tuple; raise otherwise."""
    if isinstance(weights, str) or not hasattr(weights, "__len__") or len(weights) != n:
        raise ValueError(f"`{name}` needs {n} non-negative numbers (got {weights!r}).")
    return tuple(check_number(w, f"{name}[{i}]", min_value=0) for i, w in enumerate(weights))


def check_kwargs(kwargs, name: str, *targets, reserved: Collection[str] = ()) -> dict:
    """Return ``kwargs`` (``None`` → ``{}``) after checking its keys against ``targets``.

    ``targets`` are the callables the keywords go to; a key none of them accepts, or one of
    ``reserved`` (set by the caller itself), raises a ``ValueError`` listing what is accepted.
    """
    import inspect

    if kwargs is None:
        return {}
    if not isinstance(kwargs, Mapping):
        raise ValueError(
            f"`{name}` must be a dict of keyword arguments (got {type(kwargs).__name__})."
        )
    accepted = set()
    for target in targets:
        params = inspect.signature(target).parameters.values()
        accepted |= {
            p.name
            for p in params
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name not in ("self", "cls")
        }
    accepted -= set(reserved)
    for key in kwargs:
        if key in reserved:
            raise ValueError(
                f"`{name}` cannot set {key!r}: pass it as an argument of the function."
            )
        if key not in accepted:
            raise ValueError(f"`{name}` has an unknown key {key!r}; accepted: {sorted(accepted)}.")
    return dict(kwargs)
