"""Feature policy: protected, immutable and ordered features, on a seed-style categorical model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.scoring.counterfactual import find_counterfactuals
from core.scoring.feature_policy import (
    FeaturePolicy,
    FeaturePolicyError,
    load_feature_policy,
    parse_feature_policy,
)
from core.scoring.reason_codes import ReasonCodeBook, load_reason_codes
from core.scoring.scorer import APPROVE, DECLINE, scorer_for
from core.settings import DEFAULT_FEATURE_POLICY_FILE, DEFAULT_REASON_CODES_FILE, load_settings
from tests.helpers.german_like import CREDIT_HISTORY, german_like_model

PROTECTED = ("personal_status_and_sex", "foreign_worker", "age")
APPLICANTS = 40


@pytest.fixture(scope="module")
def german():
    """A seed-style model on German-credit-like columns, its rows and a median threshold."""
    model, rows = german_like_model()
    probability = scorer_for(model).probabilities(scorer_for(model).prepare(rows).frame)
    return model, rows, float(np.median(probability))


def _applicants(german, decision: str) -> list[pd.DataFrame]:
    """The first APPLICANTS rows the model gives this decision, one frame each."""
    model, rows, threshold = german
    scores = scorer_for(model).score(rows, threshold).scores
    picked = np.flatnonzero(scores["decision"].to_numpy() == decision)[:APPLICANTS]
    return [rows.iloc[[i]].reset_index(drop=True) for i in picked]


def _suggested(
    german, applicants, policy: FeaturePolicy | None
) -> list[tuple[str, object, object]]:
    """Every (feature, current, proposed) the counterfactual search offers these applicants."""
    model, _, threshold = german
    found = []
    for applicant in applicants:
        result = find_counterfactuals(model, applicant, threshold, policy=policy, n=20)
        found += [(c.feature, c.current, c.proposed) for c in result.changes]
    return found


def test_shipped_policy_protects_the_fair_lending_attributes() -> None:
    # given the policy file shipped in core/config/
    policy = load_feature_policy(DEFAULT_FEATURE_POLICY_FILE)
    # then the German-credit protected attributes are protected, the demo's history is immutable
    assert set(PROTECTED) <= set(policy.protected)
    assert "delinquencies_2y" in policy.immutable
    assert policy.ordered["credit_history"] == CREDIT_HISTORY
    assert load_settings({}).feature_policy_file == DEFAULT_FEATURE_POLICY_FILE
    assert policy.protected_in(["age", "duration_in_month"]) == ["age"]


def test_protected_features_are_never_suggested_nor_a_reason(german) -> None:
    # given declined applicants, and the shipped policy
    model, rows, threshold = german
    declined = _applicants(german, DECLINE)
    book = load_reason_codes(DEFAULT_REASON_CODES_FILE, DEFAULT_FEATURE_POLICY_FILE)
    # when counterfactuals and reason codes are computed with and without it
    free = _suggested(german, declined, None)
    held = _suggested(german, declined, load_feature_policy(DEFAULT_FEATURE_POLICY_FILE))
    scorer = scorer_for(model)
    open_reasons = scorer.score(rows, threshold, reason_book=ReasonCodeBook()).reasons
    policed = scorer.score(rows, threshold, reason_book=book)
    # then without the policy protected features are proposed and given as reasons, with it never
    protected_texts = {ReasonCodeBook().text_for(f) for f in PROTECTED}
    assert {f for f, _, _ in free} & set(PROTECTED)
    assert not {f for f, _, _ in held} & set(PROTECTED)
    assert set(np.unique(open_reasons.to_numpy())) & protected_texts
    assert not set(np.unique(policed.reasons.to_numpy())) & protected_texts
    assert policed.withheld == frozenset(load_feature_policy().protected)
    assert (policed.reasons["reason_1"][policed.scores["decision"] == DECLINE] != "").all()


def test_immutable_features_are_never_suggested_but_stay_reasons(german) -> None:
    # given a policy that holds the loan's duration fixed
    model, rows, threshold = german
    policy = parse_feature_policy('[features]\nduration_in_month = "immutable"\n')
    declined = _applicants(german, DECLINE)
    # when counterfactuals are searched
    free = _suggested(german, declined, None)
    held = _suggested(german, declined, policy)
    # then duration is proposed without the policy, never with it, and can still be a reason
    assert "duration_in_month" in {f for f, _, _ in free}
    assert "duration_in_month" not in {f for f, _, _ in held}
    book = load_reason_codes(DEFAULT_REASON_CODES_FILE)
    reasons = scorer_for(model).score(rows, threshold, reason_book=book).reasons
    assert (reasons.to_numpy() == book.text_for("duration_in_month")).any()
    assert policy.held_fixed_table(["duration_in_month", "age"])["Feature"].tolist() == [
        "duration_in_month"
    ]


@pytest.mark.parametrize(("decision", "better"), [(DECLINE, True), (APPROVE, False)])
def test_ordered_category_moves_only_in_the_allowed_direction(german, decision, better) -> None:
    # given applicants with this decision and the shipped credit-history order
    applicants = _applicants(german, decision)
    policy = load_feature_policy(DEFAULT_FEATURE_POLICY_FILE)
    # when counterfactuals are searched with and without the policy
    free = [s for s in _suggested(german, applicants, None) if s[0] == "credit_history"]
    held = [s for s in _suggested(german, applicants, policy) if s[0] == "credit_history"]

    def improves(current: object, proposed: object) -> bool:
        return CREDIT_HISTORY.index(str(proposed)) > CREDIT_HISTORY.index(str(current))

    # then without the policy some move goes the wrong way (the reported bug), with it none
    assert any(improves(c, p) != better for _, c, p in free)
    assert all(improves(c, p) == better for _, c, p in held)
    assert held or not better  # a better history still gets some declined applicants approved


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("[features\n", "not valid TOML"),
        ('[features]\nage = "protectd"\n', "unknown kind 'protectd'"),
        ('[features.credit_history]\nkind = "ordered"\n', "needs worst_to_best"),
        ('[features.h]\nkind = "ordered"\nworst_to_best = ["a", "a"]\n', "twice"),
        ('[features]\nage = "immutable"\n[extra]\nx = 1\n', "unknown section"),
        ("[features]\nage = 3\n", "must be a kind"),
    ],
)
def test_malformed_policy_names_the_problem(text: str, complaint: str) -> None:
    # when a malformed policy is parsed, then the error says what is wrong and how to fix it
    with pytest.raises(FeaturePolicyError, match=complaint) as caught:
        parse_feature_policy(text, source="policy.toml")
    assert "worst_to_best" in (caught.value.fix or "")
