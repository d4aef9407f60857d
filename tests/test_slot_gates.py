"""The slot's gates on real models: feature contract, non-inferiority AUC, protected inputs."""

from __future__ import annotations

import json

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from core.data.synthetic import demo_dataset
from core.evaluation.run_comparison import AucComparison
from core.promotion import noninferiority, slot_gates
from core.promotion.champion import model_contract
from core.promotion.noninferiority import ChampionSide
from core.record.manifest import PromotionManifest
from core.run_schema import ID_COLUMN, LABEL_COLUMN
from core.scoring.feature_contract import contract_differences
from core.scoring.feature_policy import parse_feature_policy
from core.scoring.loaded_model import LoadedModel
from tests.helpers.german_like import german_like_frame, german_like_model

TOLERANCE = 0.005


@pytest.fixture(scope="module")
def book():
    """2,000 demo applicants: 1,500 to train on, 300 validation rows (a small set)."""
    data = demo_dataset(n_rows=1_800, seed=21)
    return data.features, data.target


@pytest.fixture(scope="module")
def champion(book) -> LoadedModel:
    """The champion: 40 trees on the 1,500 training rows."""
    x, y = book
    return _fit(x.iloc[:1500], y.iloc[:1500])


def _fit(x: pd.DataFrame, y: pd.Series, **params: object) -> LoadedModel:
    """A small LightGBM model."""
    model = lgb.LGBMClassifier(verbose=-1, random_state=3, **({"n_estimators": 40} | params))
    return LoadedModel(model.fit(x, y))


def _validation(x: pd.DataFrame, y: pd.Series) -> pd.DataFrame:
    """A validation set as a run logs it: features, label and row id."""
    return x.assign(**{LABEL_COLUMN: y.to_numpy(), ID_COLUMN: np.arange(len(x))})


def _manifest(slot: str, run_name: str = "champ") -> PromotionManifest:
    """A champion manifest serving `slot`."""
    return PromotionManifest(
        run_id="c" * 32, run_name=run_name, experiment_id="1", experiment_name=slot,
        tracking_uri="file:x", model_uri="runs:/c/model", exported_model_path="models/c",
        exported_model_sha256="0" * 64, threshold=0.5, promoted_by="a", promoted_at="t",
        reason="r",
    )  # fmt: skip


def test_a_tie_within_noise_is_never_a_fail_by_the_point_difference(book, champion) -> None:
    # given a champion and a slightly weaker candidate on 300 validation rows
    x, y = book
    candidate = _fit(x.iloc[:1500], y.iloc[:1500], n_estimators=8, num_leaves=4)
    rows = _validation(x.iloc[1500:], y.iloc[1500:])
    # when the non-inferiority gate compares them on those rows
    result = noninferiority.gate_noninferior(
        candidate, rows, ChampionSide("champ", champion), TOLERANCE
    )
    # then the point difference is below -tolerance, yet the gate says inconclusive, not worse
    delta = float(result.detail.split("ΔAUC ")[1].split(" ")[0])
    assert delta < -TOLERANCE
    assert not result.passed and result.detail.startswith("inconclusive: too few rows to tell")
    assert "rows would settle it" in result.detail and "p = " in result.detail


def test_a_clearly_worse_candidate_fails(book, champion) -> None:
    # given a candidate trained on shuffled labels (no signal)
    x, y = book
    shuffled = pd.Series(np.random.default_rng(0).permutation(y.iloc[:1500].to_numpy()))
    candidate = _fit(x.iloc[:1500].reset_index(drop=True), shuffled, n_estimators=10)
    rows = _validation(x.iloc[1500:], y.iloc[1500:])
    # when compared / then the upper bound is below -tolerance: the gate fails
    result = noninferiority.gate_noninferior(
        candidate, rows, ChampionSide("champ", champion), TOLERANCE
    )
    assert not result.passed and not result.overridden
    assert "worse by more than 0.005 (upper bound below)" in result.detail


def test_the_same_model_passes_and_an_unscorable_champion_is_not_comparable(book, champion) -> None:
    x, y = book
    model = champion
    rows = _validation(x.iloc[1500:], y.iloc[1500:])
    same = noninferiority.gate_noninferior(model, rows, ChampionSide("c", model), TOLERANCE)
    assert same.passed and "ΔAUC +0.0000" in same.detail
    # given a champion of another feature set (it cannot score the candidate's rows)
    other, _ = german_like_model(n_rows=400)
    result = noninferiority.gate_noninferior(model, rows, ChampionSide("c", other), TOLERANCE)
    assert not result.passed and result.detail.startswith("not comparable")
    # and a candidate without a validation set is never passed
    assert not noninferiority.gate_noninferior(model, None, ChampionSide("c", model), 0.1).ok


def test_rows_to_settle_scales_the_half_width_by_sqrt_n() -> None:
    # given ΔAUC -0.014 ± 0.026 on 300 rows against a tolerance of 0.005
    comparison = AucComparison(0.80, 0.786, -0.014, 0.0133, -0.040, 0.012, 0.28)
    # then (0.026 / 0.009)^2 * 300 rows would put the interval below -0.005
    assert noninferiority.rows_to_settle(comparison, 300, 0.005) == 2504


def test_contract_gate_lists_each_difference_and_passes_a_stated_schema_change(book) -> None:
    # given a champion serving the German-like contract (4 categorical levels sets) and a
    # candidate trained on rows where one level is new, one feature gone and one added
    served_model, _ = german_like_model(n_rows=600)
    served = model_contract(served_model)
    features, target = german_like_frame(600)
    changed = features.drop(columns=["age"]).assign(
        foreign_worker=features["foreign_worker"].cat.add_categories("unknown"),
        telephone=np.arange(600) % 2,
    )
    changed.loc[0, "foreign_worker"] = "unknown"
    candidate = model_contract(_fit(changed, target))
    # when the contract gate compares them in the same slot
    refused = slot_gates.gate_feature_contract(candidate, "german", _manifest("german"), served)
    accepted = slot_gates.gate_feature_contract(
        candidate, "german", _manifest("german"), served, "adds telephone, drops age"
    )
    # then each difference is listed, and only the written reason lets it pass
    assert not refused.passed
    for expected in ("removed feature(s) the service accepts: 'age'",
                     "added feature(s) the contract lacks: 'telephone'",
                     "'foreign_worker' has level(s) the contract lacks: 'unknown'"):  # fmt: skip
        assert expected in refused.detail
    assert accepted.passed and "intended schema change: adds telephone, drops age" in (
        accepted.detail
    )
    assert len(contract_differences(served, candidate)) == 3


def test_contract_gate_refuses_a_model_of_another_slot(book) -> None:
    # given the deploy folder serving the German-like slot and a demo-experiment candidate
    x, y = book
    candidate = model_contract(_fit(x.iloc[:300], y.iloc[:300]))
    served = model_contract(german_like_model(n_rows=400)[0])
    # when / then it is refused naming both slots, even with a schema-change reason
    result = slot_gates.gate_feature_contract(
        candidate, "demo", _manifest("german"), served, "because"
    )
    assert not result.passed and "serves slot 'german'" in result.detail
    assert "this run is of slot 'demo'" in result.detail
    # and the same candidate against its own slot's contract passes
    same = slot_gates.gate_feature_contract(candidate, "demo", _manifest("demo"), candidate)
    assert same.passed and "matches the contract of slot 'demo'" in same.detail


def test_protected_input_fails_unless_justified_in_the_policy() -> None:
    # given the German-like model, which uses age and personal_status_and_sex
    model, _ = german_like_model(n_rows=400)
    names = model_contract(model).names
    plain = parse_feature_policy(
        '[features]\nage = "protected"\npersonal_status_and_sex = "protected"'
    )
    justified = parse_feature_policy(
        '[features]\nage = "protected"\n[input_justifications]\n'
        'age = "empirically derived, statistically sound system"'
    )
    # when / then: protected inputs fail, naming them; a policy justification passes, shown
    failed = slot_gates.gate_protected_inputs(names, plain)
    assert not failed.ok and "personal_status_and_sex, age" in failed.detail
    passed = slot_gates.gate_protected_inputs(names, justified)
    assert passed.passed and "empirically derived, statistically sound system" in passed.detail
    forced = slot_gates.gate_protected_inputs(names, plain, force_reason="validator signed off")
    assert forced.ok and not forced.passed and "validator signed off" in forced.detail


def test_a_manifest_and_ledger_entry_written_before_slots_still_read_and_verify(
    tmp_path,
) -> None:
    # given a manifest as written before slots existed, and its ledger entry hashed then
    from core.record import ledger
    from core.record.manifest import ledger_path, read_manifest

    old = _manifest("demo").model_dump(mode="json")
    for key in ("slot", "feature_contract", "feature_contract_sha256", "schema_change_reason"):
        old.pop(key)
    digest = ledger.entry_hash(1, ledger.GENESIS_HASH, None, old)
    entry = {"seq": 1, "prev_hash": ledger.GENESIS_HASH, "restores_seq": None, "manifest": old}
    path = tmp_path / "promotion.json"
    path.write_text(json.dumps(old | {"ledger_entry_hash": digest}))
    ledger_path(path).write_text(json.dumps(entry | {"hash": digest}) + "\n")
    # when read / then it verifies and serves its experiment's slot, with no recorded contract
    assert ledger.read_chain(ledger_path(path)).valid
    manifest = read_manifest(path)
    assert manifest.served_slot == "demo" and manifest.feature_contract is None


def test_runs_of_an_experiment_without_a_champion_in_its_slot_are_not_compared() -> None:
    # given the deploy folder serving slot 'german', and the demo experiment's recommendation
    from core.runs.analysis import champion_comparison
    from core.runs.recommendation import Recommendation

    runs = pd.DataFrame({"run_id": ["r1"], "metrics.val_auc": [0.83]})
    recommended = Recommendation("r1", "demo_run", "metrics.val_auc", 0.83, "best")
    # when compared / then it says the experiment has no champion, not "better than"
    note = champion_comparison(runs, recommended, _manifest("german"), "demo")
    assert "Experiment demo has no champion: the deploy folder serves slot german" in note
    assert "better" not in note
    assert "better than the champion" in champion_comparison(
        runs, recommended, _manifest("demo").model_copy(update={"metrics": {"val_auc": 0.8}}),
        "demo",
    )  # fmt: skip
