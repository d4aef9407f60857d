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
    checked: dict[str, int] = {"monotone": 0, "free": 0}
    for skip in range(6):
        applicant = _first(model, data, DECLINE, skip)
        result = find_counterfactuals(model, applicant, THRESHOLD)
        # (each gets at least one numeric change, so the checks below always run)
        assert any(c.change is not None for c in result.changes), skip
        for change in result.changes:
            feature = spec.feature(change.feature)
            if feature.is_categorical or change.change is None:
                continue
            # then a monotone feature only moves in its risk-lowering direction
            if feature.monotone:
                assert np.sign(change.change) == -feature.monotone
            checked["monotone" if feature.monotone else "free"] += 1
            # and stays inside the training range
            assert feature.low <= change.proposed <= feature.high
    # and both monotone and unconstrained features were among the changes checked
    assert checked["monotone"] > 0 and checked["free"] > 0, checked


def test_approved_applicant_gets_the_change_that_would_decline_it(model, data) -> None:
    # given an approved applicant
    applicant = _first(model, data, APPROVE)
    # when searched
    result = find_counterfactuals(model, applicant, THRESHOLD)
    # then the target is a decline and changes lead there
    assert result.target_decision == DECLINE and result.found
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


def _income_can_approve(model, applicant: pd.DataFrame) -> bool:
    """Whether some income across the training range, filled in alone, approves the applicant."""
    feature = model_spec(model.classifier).feature("annual_income")
    incomes = np.linspace(float(feature.low), float(feature.high), 2_001)
    filled = pd.concat([applicant] * len(incomes), ignore_index=True).assign(annual_income=incomes)
    decisions = scorer_for(model).score(filled, THRESHOLD).scores["decision"]
    return bool((decisions == APPROVE).any())


def test_missing_value_can_be_filled_in(model, data) -> None:
    # given a declined applicant with a missing income whom some income would get approved
    # (found by scoring the whole income range, not by the search under test)
    missing = (_first(model, data, DECLINE, s).assign(annual_income=np.nan) for s in range(40))
    applicant = next(a for a in missing if _income_can_approve(model, a))
    spec = model_spec(model.classifier)
    reference = typical_applicant(spec, data)
    # when searched for every feature that can flip it (not only the cheapest few)
    result = find_counterfactuals(
        model, applicant, THRESHOLD, reference=reference, n=len(spec.features)
    )
    # then filling in the income is proposed, as a value (not a change) for a missing one
    (income,) = [c for c in result.changes if c.feature == "annual_income"]
    assert income.change is None
    assert income.current != income.current or income.current is None
    # and that value alone flips the decision, at the probability the search reported
    filled = _with(applicant, "annual_income", income.proposed)
    rescored = scorer_for(model).score(filled, THRESHOLD)
    assert rescored.scores["decision"].iloc[0] == APPROVE
    assert rescored.scores["probability"].iloc[0] == pytest.approx(income.probability)
