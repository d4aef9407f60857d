"""The decision threshold: one validated value type, parsed once at the edge, trusted after.

The threshold is business-owned and never stored inside a model. Every entry point (settings,
CLI flags, page widgets, the manifest, the scoring service) turns user input into a
`Threshold` with `parse_threshold`; core functions take the validated value.
"""

from __future__ import annotations

import math

from core.errors import DataValidationError

THRESHOLD_FIX = "Give a score strictly between 0 and 1, for example 0.4542."


class InvalidThresholdError(DataValidationError):
    """A decision threshold is not a finite number strictly inside (0, 1)."""


class Threshold(float):
    """A finite float strictly inside (0, 1): approve below it, decline at or above it."""

    __slots__ = ()

    def __new__(cls, value: object) -> Threshold:
        """Validate once; a Threshold passed in is returned as it is."""
        if isinstance(value, Threshold):
            return value
        if isinstance(value, bool):
            raise InvalidThresholdError(f"Threshold {value!r} is not a number.", fix=THRESHOLD_FIX)
        try:
            number = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            shown = str(value).strip() or "(empty)"
            raise InvalidThresholdError(
                f"Threshold '{shown}' is not a number.", fix=THRESHOLD_FIX
            ) from None
        if not math.isfinite(number) or not 0.0 < number < 1.0:
            raise InvalidThresholdError(f"Threshold {value} is outside (0, 1).", fix=THRESHOLD_FIX)
        return super().__new__(cls, number)


def parse_threshold(value: object) -> Threshold:
    """The validated threshold for a number or text, or InvalidThresholdError saying what to fix."""
    return Threshold(value)
