"""The one threshold type: parsed once, one exception type, trusted after."""

from __future__ import annotations

import pytest

from core.promotion import gates
from core.threshold import InvalidThresholdError, Threshold, parse_threshold


@pytest.mark.parametrize("raw", ["0.4542", 0.5, "1e-3", "0.999"])
def test_threshold_inside_unit_interval_is_accepted(raw) -> None:
    # given / when / then a probability strictly inside (0, 1) parses
    assert 0 < parse_threshold(raw) < 1
    assert gates.gate_threshold(parse_threshold(raw)).passed


@pytest.mark.parametrize("raw", ["1.5", "abc", "0", "1", "-0.2", "nan", "inf", ""])
def test_threshold_outside_or_not_a_number_is_refused(raw: str) -> None:
    # given a threshold that is not a probability inside (0, 1)
    # when it is parsed / then the error names it
    with pytest.raises(InvalidThresholdError, match="Threshold"):
        parse_threshold(raw)


def test_a_threshold_is_validated_once_and_behaves_as_a_number() -> None:
    # given a parsed threshold / when it is parsed again or used in arithmetic
    value = parse_threshold("0.4542")
    # then it is the same object, and compares and formats like the float it holds
    assert Threshold(value) is value
    assert value == 0.4542 and f"{value:g}" == "0.4542" and str(value) == "0.4542"


def test_a_boolean_is_not_a_threshold() -> None:
    # given / when / then True is refused rather than read as 1.0
    with pytest.raises(InvalidThresholdError):
        parse_threshold(True)
