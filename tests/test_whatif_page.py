"""What-if page (AppTest): pick an applicant, edit a field, see the score and reasons change."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core.run_schema import SCORE_COLUMN
from core.store.access import load_validation_set
from core.store.client import open_client
from tests.helpers.apptest_helpers import APP, exceptions, open_page, texts
from tests.helpers.whatif_html import result_block

PAGE = "pages/whatif.py"


def _metric(at: AppTest, label: str) -> str:
    """The shown value of the result's metric with this label."""
    return result_block(at).metrics[label]


def _table(at: AppTest, column: str) -> pd.DataFrame:
    """The first table that has this column: a Streamlit table or dataframe (AppTest ones carry
    no key), else one of the result block's."""
    for element in [*at.table, *at.dataframe]:
        if column in element.value.columns:
            return element.value
    return result_block(at).table(column)


def _shown(at: AppTest) -> str:
    """Every text on the page: Streamlit's text elements and the result block's."""
    return texts(at) + "\n" + result_block(at).text


def _probability(at: AppTest) -> float:
    """The score the page shows (a risk score: these runs are not calibrated), as a fraction."""
    return float(_metric(at, "Risk score").rstrip("%")) / 100


def _points(shown: str) -> float:
    """A distance shown in percentage points ('+3.10 pp'), as a fraction."""
    assert shown.endswith(" pp"), shown
    return float(shown.removesuffix(" pp")) / 100


@pytest.fixture()
def whatif(file_store, app_env) -> AppTest:
    """The page opened on the first governed run of a populated store."""
    app_env(file_store.uri)
    at = open_page(PAGE, {"run_id": file_store.governed[0]})
    assert exceptions(at) == []
    return at


def test_pick_row_then_edit_a_field_changes_the_score(whatif: AppTest, file_store) -> None:
    # given the page on validation row 0 of the first governed run
    assert whatif.selectbox(key="whatif_run").value == file_store.governed[0]
    validation = load_validation_set(open_client(file_store.uri), file_store.governed[0])
    assert abs(_probability(whatif) - validation[SCORE_COLUMN].iloc[0]) < 5e-5
    # when the user picks row 7
    whatif.number_input(key="whatif_row").set_value(7).run()
    picked = _probability(whatif)
    # then the page scores row 7: the score training logged for it, to the shown precision
    assert "validation row 7" in texts(whatif)
    assert abs(picked - validation[SCORE_COLUMN].iloc[7]) < 5e-5
    # and raises the debt-to-income ratio to the top of its range
    whatif.text_input(key="whatif_f_debt_to_income").set_value("0.9").run()
    # then the score moves up, and the page compares original and edited applicants
    edited = _probability(whatif)
    assert exceptions(whatif) == []
    assert edited > picked
    changed = _table(whatif, "Edited value")
    row = changed[changed["Feature"] == "debt_to_income"]
    assert row["Edited value"].tolist() == ["0.9"]
    # and the waterfall explains the edited score, from the edited value
    waterfall = result_block(whatif).charts["waterfall"]
    assert waterfall.title.startswith(f"Why this score: risk score {edited:.1%}")
    assert "debt_to_income = 0.9" in waterfall.labels


def test_non_numeric_text_shows_a_message_not_a_traceback(whatif: AppTest) -> None:
    # given the page on an applicant
    # when the user types text into a numeric field
    whatif.text_input(key="whatif_f_credit_score").set_value("seven hundred").run()
    # then a clear error names the field, with no exception
    assert exceptions(whatif) == []
    errors = " ".join(e.value for e in whatif.error)
    assert "credit_score" in errors and "must be a number" in errors


def test_declined_applicant_gets_reasons_and_a_counterfactual(whatif: AppTest) -> None:
    # given the features the shipped policy holds fixed, listed with why under the form
    held = _table(whatif, "Rule")
    assert set(held["Feature"]) == {"delinquencies_2y", "credit_history_years", "employment_length"}
    # and an applicant pushed into a decline (an edit reruns the result fragment alone)
    for key, value in (
        ("whatif_f_credit_score", "560"),
        ("whatif_f_debt_to_income", "0.6"),
        ("whatif_f_revolving_utilization", "0.95"),
    ):
        whatif.text_input(key=key).set_value(value)
    whatif.run()
    # then the decision, plain-language reasons and a flipping change are shown
    assert _metric(whatif, "Decision") == "DECLINE"
    shown = _shown(whatif)
    assert "Reasons for the decline" in shown
    assert "too low" in shown or "too high" in shown
    table = _table(whatif, "Share of range")
    assert not table.empty
    assert set(table["Decision"]) == {"approve"}
    # and the features held fixed are never suggested
    assert not set(table["Feature"]) & set(held["Feature"])
    # when the user applies the best change
    whatif.button(key="whatif_apply_best").click().run()
    # then the applicant is approved
    assert _metric(whatif, "Decision") == "APPROVE"


def test_borderline_pick_lists_scores_near_the_threshold(whatif: AppTest) -> None:
    # when the user asks for the most borderline applicants
    whatif.radio(key="whatif_source").set_value("Borderline").run()
    # then the choices show logged scores around the threshold
    options = whatif.selectbox(key="whatif_borderline").options
    assert len(options) == 10
    assert exceptions(whatif) == []


def test_an_edit_on_a_borderline_applicant_survives_a_threshold_change(whatif: AppTest) -> None:
    # given a borderline applicant whose debt-to-income the user edited
    whatif.radio(key="whatif_source").set_value("Borderline").run()
    picked = whatif.selectbox(key="whatif_borderline").value
    whatif.text_input(key="whatif_f_debt_to_income").set_value("0.77").run()
    # (the edit reran the result alone: AppTest then holds only what that run drew, where the
    # browser keeps the rest of the page, so run the page once more to reach the threshold)
    whatif.run()
    # when the threshold moves far enough to change the closest applicants
    whatif.number_input(key="whatif_threshold").set_value(0.15).run()
    # then the same applicant stays, with the user's edit
    assert exceptions(whatif) == []
    assert whatif.selectbox(key="whatif_borderline").value == picked
    assert whatif.text_input(key="whatif_f_debt_to_income").value == "0.77"
    assert "0.77" in _table(whatif, "Edited value")["Edited value"].tolist()


def test_threshold_change_moves_the_distance(whatif: AppTest) -> None:
    # given the distance at the configured threshold
    before = _points(_metric(whatif, "Distance to threshold"))
    # when the threshold is raised by 0.1
    whatif.number_input(key="whatif_threshold").set_value(
        whatif.number_input(key="whatif_threshold").value + 0.1
    ).run()
    # then the distance falls by 0.1
    after = _points(_metric(whatif, "Distance to threshold"))
    assert after == pytest.approx(before - 0.1, abs=2e-4)


def test_batch_upload_scores_and_offers_download(whatif: AppTest, file_store) -> None:
    # given a CSV of validation applicants with their ids
    validation = load_validation_set(open_client(file_store.uri), file_store.governed[0])
    data = validation.drop(columns=["label", "score"]).head(40).to_csv(index=False).encode()
    # when it is uploaded
    whatif.file_uploader(key="whatif_upload").set_value(("applicants.csv", data, "text/csv")).run()
    # then every row is scored with decision and reasons, ready to download
    assert exceptions(whatif) == []
    table = _table(whatif, "risk_score")
    assert len(table) == 40
    assert {"row_id", "risk_score", "decision", "reason_1"} <= set(table.columns)
    declined = table[table["decision"] == "decline"]
    assert (declined["reason_1"] != "").all()
    assert whatif.get("download_button")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "is empty"),
        (b"credit_score,annual_income\n700,50000\n", "Missing model feature"),
    ],
)
def test_bad_uploads_show_messages(whatif: AppTest, content: bytes, expected: str) -> None:
    # when a bad file is uploaded
    whatif.file_uploader(key="whatif_upload").set_value(("bad.csv", content, "text/csv")).run()
    # then a message says what is wrong, with no exception
    assert exceptions(whatif) == []
    assert expected in " ".join(e.value for e in whatif.error)


def test_unseen_category_upload_is_refused_until_the_user_accepts(
    whatif: AppTest, file_store
) -> None:
    # given a file with a home_ownership the model never saw
    validation = load_validation_set(open_client(file_store.uri), file_store.governed[0])
    frame = validation.drop(columns=["label", "score"]).head(5)
    frame["home_ownership"] = frame["home_ownership"].astype("string")
    frame.loc[frame.index[0], "home_ownership"] = "HOUSEBOAT"
    data = frame.to_csv(index=False).encode()
    # when it is uploaded
    whatif.file_uploader(key="whatif_upload").set_value(("a.csv", data, "text/csv")).run()
    # then scoring stops and names the category
    assert "HOUSEBOAT" in " ".join(e.value for e in whatif.error)
    # when the user accepts scoring it as missing
    whatif.checkbox(key="whatif_allow_unseen").check().run()
    # then all rows are scored, with a warning naming it
    assert len(_table(whatif, "risk_score")) == 5
    assert "HOUSEBOAT" in " ".join(w.value for w in whatif.warning)


def test_run_without_a_model_in_the_link_says_so(file_store, app_env) -> None:
    # given a link to a run that logged no model
    app_env(file_store.uri)
    at = open_page(PAGE, {"run_id": file_store.foreign["named_folds"]})
    # then the page says it cannot be scored and opens another run
    assert exceptions(at) == []
    assert "logged no model" in " ".join(w.value for w in at.warning)
    assert at.selectbox(key="whatif_run").value != file_store.foreign["named_folds"]


def test_seed_pattern_run_scores_from_the_template(file_store, app_env) -> None:
    # given the run logged the seed's way (no validation set)
    app_env(file_store.uri)
    at = open_page(PAGE, {"run_id": file_store.seed_pattern})
    # then the page explains and still scores the typical applicant
    assert exceptions(at) == []
    assert "logged no validation set" in texts(at)
    assert 0.0 < _probability(at) < 1.0


def test_default_run_is_the_promoted_one(file_store, app_env, tmp_path) -> None:
    # given a manifest naming the second governed run
    folder = app_env(file_store.uri)
    promoted = file_store.governed[1]
    manifest = folder / "deploy" / "promotion.json"
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_text(
        json.dumps(
            {
                "run_id": promoted,
                "experiment_id": "0",
                "experiment_name": "credit_risk_experiment",
                "tracking_uri": file_store.uri,
                "model_uri": f"runs:/{promoted}/model",
                "exported_model_path": "deploy/model",
                "exported_model_sha256": "0" * 64,
                "threshold": 0.4542,
                "promoted_by": "test",
                "promoted_at": "2026-01-01T00:00:00Z",
                "reason": "test",
            }
        )
    )
    # when the page opens without a link
    at = open_page(PAGE)
    # then it opens on the promoted run
    assert at.selectbox(key="whatif_run").value == promoted
    assert "promoted run" in texts(at)


def test_broken_manifest_is_reported_and_the_page_continues(file_store, app_env) -> None:
    # given an unreadable manifest
    folder = app_env(file_store.uri)
    (folder / "deploy").mkdir(parents=True, exist_ok=True)
    (folder / "deploy" / "promotion.json").write_text("{not json")
    # when the page opens
    at = open_page(PAGE)
    # then the manifest error is shown and an applicant is still scored
    assert exceptions(at) == []
    assert "promotion manifest" in " ".join(e.value for e in at.error)
    assert 0.0 < _probability(at) < 1.0


def test_pages_and_ui_call_no_ml_library_directly() -> None:
    # given every page and every ui module
    root = Path(APP).parent
    sources = [*root.glob("pages/*.py"), *root.glob("ui/**/*.py")]
    assert len(sources) > 5
    # then none imports mlflow, lightgbm, shap or sklearn in any form: they wire core only
    pattern = re.compile(r"^\s*(?:import|from)\s+(mlflow|lightgbm|shap|sklearn)\b", re.M)
    offenders = {
        str(path.relative_to(root)): pattern.findall(path.read_text(encoding="utf-8"))
        for path in sources
    }
    assert {path: found for path, found in offenders.items() if found} == {}
