"""Validation of section identifiers."""

from __future__ import annotations

from collections.abc import Sequence


def check_section(section: str | int, valid: Sequence[str], dataset: str) -> str:
    """Return ``section`` as a string, raising :class:`ValueError` unless it is in ``valid``."""
    name = str(section)
    if name not in valid:
        raise ValueError(
            f"unknown {dataset} section {section!r}; valid sections are: {', '.join(valid)}."
        )
    return name
