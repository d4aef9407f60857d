"""Pending work grouped by the model it holds: requests scored with different models (during a
hot swap) are never mixed in one call."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, TypeVar

from core.serving.model_holder import ServedModel


class HoldsModel(Protocol):
    """Anything pending with the served model it was validated against."""

    @property
    def loaded(self) -> ServedModel: ...


T = TypeVar("T", bound=HoldsModel)


def by_model(items: Iterable[T]) -> list[list[T]]:
    """The items grouped by the model they hold, groups and items in first-seen order."""
    groups: dict[int, list[T]] = {}
    for item in items:
        groups.setdefault(id(item.loaded), []).append(item)
    return list(groups.values())
