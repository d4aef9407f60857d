"""What-if on a category level the model never saw (QA defect 7): the form shows the applicant's
own level, marked, and scores it as the one scoring path does; typical values use seen levels."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core.scoring.applicants import typical_applicant
from core.scoring.loaded_model import LoadedModel
from core.scoring.model_spec import model_spec
from core.scoring.scorer import scorer_for
from tests.helpers.apptest_helpers import exceptions
from tests.helpers.whatif_html import result_block

LEVELS = ["own", "rent", "<b>other</b>"]
THRESHOLD = 0.5


@pytest.fixture(scope="module")
def model() -> LoadedModel:
    """A small LightGBM model on one category feature (three levels) and one number."""
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {
            "home status": pd.Categorical(rng.choice(LEVELS, 400), categories=LEVELS),
            "income": rng.normal(50, 10, 400),
        }
    )
    label = ((frame["home status"] == "rent") ^ (rng.random(400) < 0.2)).astype(int)
    classifier = lgb.LGBMClassifier(n_estimators=20, min_child_samples=5, verbose=-1)
    return LoadedModel(classifier.fit(frame, label))


def _validation() -> pd.DataFrame:
    """Validation rows as a file gives them (text, under the model's feature names), where the
    unseen 'houseboat' is the most frequent level; row 0 is a houseboat."""
    homes = ["houseboat"] * 5 + ["rent"] * 3 + ["own"] * 2
    return pd.DataFrame({"home_status": homes, "income": np.linspace(40.0, 60.0, len(homes))})


def test_typical_applicant_takes_the_most_frequent_seen_level(model) -> None:
    # given a validation set whose most frequent level was never seen in training
    spec = model_spec(model.classifier)
    # when the typical applicant is built
    typical = typical_applicant(spec, _validation())
    # then it takes the most frequent level the model knows
    assert typical.loc[0, "home_status"] == "rent"


def _page(model, validation) -> None:
    """A script: the What-if form and result on validation row 0."""
    from core.scoring.applicants import applicant_by_row
    from core.scoring.model_spec import model_spec
    from core.scoring.reason_codes import ReasonCodeBook
    from ui.whatif.editor import Workbench, applicant_workbench, load_applicant_into_form

    spec = model_spec(model.classifier)
    applicant = applicant_by_row(validation, spec, 0)
    load_applicant_into_form(spec, applicant, "row:0")
    bench = Workbench(
        model=model,
        model_uri="runs:/test/model",
        spec=spec,
        threshold=0.5,
        book=ReasonCodeBook(source="test"),
        steps={},
        reference=applicant,
    )
    applicant_workbench(bench, applicant, "validation row 0")


def test_form_shows_an_unseen_level_and_scores_it_as_missing(model) -> None:
    # given the form on a validation row whose level was never seen in training
    validation = _validation()
    at = AppTest.from_function(_page, args=(model, validation), default_timeout=60).run()
    assert exceptions(at) == []
    # then the form shows the row's own level, marked as unseen, beside the model's levels
    field = at.selectbox(key="whatif_f_home_status")
    assert field.value == "houseboat"
    assert "houseboat (unseen in training)" in field.options
    assert {"own", "rent", "<b>other</b>"} <= set(field.options)
    # and the score is the one scoring path's for that row (the level scored as missing)
    expected = scorer_for(model).score(validation.head(1), THRESHOLD).scores["probability"].iloc[0]
    block = result_block(at)
    assert block.metrics["Risk score"] == f"{expected:.2%}"
    assert "home_status = houseboat was never seen in training" in block.text
    # when the user picks a level the model knows
    at.selectbox(key="whatif_f_home_status").set_value("rent").run()
    # then it is scored as that level, and the unseen level stays on offer
    rescored = validation.head(1).assign(home_status="rent")
    expected = scorer_for(model).score(rescored, THRESHOLD).scores["probability"].iloc[0]
    assert result_block(at).metrics["Risk score"] == f"{expected:.2%}"
    # (the edit reran the result alone; AppTest then holds only that, so run the whole script)
    at.run()
    assert "houseboat (unseen in training)" in at.selectbox(key="whatif_f_home_status").options


def test_result_block_escapes_names_and_values() -> None:
    # given a hostile feature name and value
    from core.charts.whatif import Bar, BarChart
    from ui.whatif.result import chart_html, html_table

    name = '<img src=x onerror=alert(1)> **bold** "q"'
    chart = BarChart(name, (Bar(name, 0.0, 1.0, "up", name),), -1.0, 2.0, name, 0.5, name)
    # when the result block draws them in a chart and a table
    body = chart_html(chart, name) + html_table([name], [[name]])
    # then they show as text: no tag or attribute of theirs reaches the page
    assert "<img" not in body and '"q"' not in body
    # (chart name, title, row label, bar tooltip, printed value, axis, marker note; header, cell)
    assert body.count("&lt;img src=x onerror=alert(1)&gt; **bold** &quot;q&quot;") == 9
