"""Counterfactuals: the smallest single-feature change flips the decision, within the rules."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.scoring.applicants import typical_applicant, value_steps
from core.scoring.counterfactual import find_counterfactuals
from core.scoring.model_spec import model_spec
from core.scoring.scorer import APPROVE, DECLINE, scorer_for
from tests.test_scoring import train_small_model

THRESHOLD = 0.4542


@pytest.fixture(scope="module")
def fitted():
    """A monotone model and the demo applicants it was fitted on."""
    return train_small_model(seed=9, n_estimators=60)


@pytest.fixture()
def data(fitted) -> pd.DataFrame:
    """Demo applicants (features only)."""
    return fitted[1]


@pytest.fixture()
def model(fitted):
    """The monotone model."""
    return fitted[0]


def _with(applicant: pd.DataFrame, feature: str, value: object) -> pd.DataFrame:
    """The applicant with one feature replaced."""
    changed = applicant.copy()
    if isinstance(changed[feature].dtype, pd.CategoricalDtype):
        changed[feature] = changed[feature].astype("string")
    changed[feature] = [value]
    return changed


def _first(model, data: pd.DataFrame, decision: str, skip: int = 0) -> pd.DataFrame:
    """The first applicants (after skip) the model gives this decision."""
    scores = scorer_for(model).score(data, THRESHOLD).scores
    rows = np.flatnonzero(scores["decision"].to_numpy() == decision)
    return data.iloc[[rows[skip]]].reset_index(drop=True)


@pytest.mark.parametrize("skip", [0, 1, 2, 3])
def test_best_change_flips_a_decline_and_a_smaller_one_does_not(model, data, skip) -> None:
    # given a declined applicant
    applicant = _first(model, data, DECLINE, skip)
    steps = value_steps(model_spec(model.classifier), data)
    # when counterfactuals are searched
    result = find_counterfactuals(model, applicant, THRESHOLD, steps=steps)
    # then every proposed change, applied alone, gets the applicant approved
    assert result.current_decision == DECLINE and result.target_decision == APPROVE
    assert result.found
    for change in result.changes:
        rescored = scorer_for(model).score(
            _with(applicant, change.feature, change.proposed), 0.4542
        )
        assert rescored.scores["decision"].iloc[0] == APPROVE
        assert rescored.scores["probability"].iloc[0] == pytest.approx(change.probability)
    # and for the best numeric change, one step less far does not flip
    best = next((c for c in result.changes if c.change is not None), None)
    if best is not None:
        step = steps[best.feature]
        shorter = best.proposed - np.sign(best.change) * step
        if (shorter - best.current) * best.change > 0:
            again = scorer_for(model).score(_with(applicant, best.feature, shorter), THRESHOLD)
            assert again.scores["decision"].iloc[0] == DECLINE


def test_changes_respect_monotone_direction_and_training_range(model, data) -> None:
    # given several declined applicants
    spec = model_spec(model.classifier)
    for skip in range(6):
        applicant = _first(model, data, DECLINE, skip)
        result = find_counterfactuals(model, applicant, THRESHOLD)
        for change in result.changes:
            feature = spec.feature(change.feature)
            if feature.is_categorical or change.change is None:
                continue
            # then a monotone feature only moves in its risk-lowering direction
            if feature.monotone:
                assert np.sign(change.change) == -feature.monotone
            # and stays inside the training range
            assert feature.low <= change.proposed <= feature.high


def test_approved_applicant_gets_the_change_that_would_decline_it(model, data) -> None:
    # given an approved applicant
    applicant = _first(model, data, APPROVE)
    # when searched
    result = find_counterfactuals(model, applicant, THRESHOLD)
    # then the target is a decline and changes lead there
    assert result.target_decision == DECLINE
    for change in result.changes:
        rescored = scorer_for(model).score(
            _with(applicant, change.feature, change.proposed), 0.4542
        )
        assert rescored.scores["decision"].iloc[0] == DECLINE


def test_says_so_when_no_single_change_flips(model, data) -> None:
    # given a threshold so low that nobody can be approved
    applicant = data.head(1)
    # when searched
    result = find_counterfactuals(model, applicant, 0.0001)
    # then there is no change and a sentence says why
    assert not result.found
    assert result.table().empty
    assert "No change to a single feature" in result.note


def test_missing_value_can_be_filled_in(model, data) -> None:
    # given a declined applicant with a missing income and a typical reference
    applicant = _first(model, data, DECLINE).assign(annual_income=np.nan)
    reference = typical_applicant(model_spec(model.classifier), data)
    # when searched
    result = find_counterfactuals(model, applicant, THRESHOLD, reference=reference)
    # then any income proposal is a value (not a change) and flips the decision
    for change in result.changes:
        if change.feature == "annual_income":
            assert change.change is None
            assert change.current != change.current or change.current is None
