"""Names holding markdown show verbatim: run, experiment and feature names are escaped where a
page puts them into markdown, core's own formatting is kept (ui/shared/markdown_text.py)."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from core.sentence import Sentence
from core.settings import load_settings
from tests.helpers.apptest_helpers import exceptions, open_page
from tests.helpers.markdown_store import (
    EXPERIMENT,
    PERSON,
    REASON,
    RENAMED,
    RUN_NAME,
    install_champion,
)
from ui.shared.markdown_text import code_span, literal, with_literal_names

SHOWN_RUN = literal(RUN_NAME)


def test_literal_escapes_every_markdown_special() -> None:
    # given a name with markdown, a formula, a colour directive and a line break
    name = "**a** | [x](y) `c` _u_ $x$ :red[z] <b>\nnext"
    # when it is made literal / then every punctuation mark is escaped and the break is a space
    assert literal(name) == (r"\*\*a\*\* \| \[x\]\(y\) \`c\` \_u\_ \$x\$ \:red\[z\] \<b\> next")
    # and a name markdown shows as written is left as it is
    for plain in ("governed_b", "purpose.v2 (A-G)", "région_2", "a__b"):
        assert literal(plain) == plain
    assert literal("_x") == r"\_x" and literal("x_ y") == r"x\_ y"
    # and a core sentence escapes only its names, never core's own formatting
    sentence = Sentence("**{0}** beat `{1}`", "*a*", "b")
    assert with_literal_names(sentence) == r"**\*a\*** beat `b`"
    assert with_literal_names("plain **core** text") == "plain **core** text"
    assert sentence == "***a*** beat `b`"


def test_code_span_shows_any_text_as_written() -> None:
    # given texts a code span could break: backticks inside or at an edge, a line break
    # when each is made a code span / then its fence is longer than any backtick run inside
    assert code_span("file:/tmp/mlruns") == "`file:/tmp/mlruns`"
    assert code_span("a`b``c") == "```a`b``c```"
    assert code_span("`x`") == "`` `x` ``"
    assert code_span("one\ntwo") == "`one two`"


def _sidebar_alone() -> None:
    """The shared sidebar on the configured store (an AppTest script)."""
    from core.settings import load_settings
    from ui.shared.sidebar import draw_sidebar

    draw_sidebar(load_settings())


def test_the_sidebar_names_the_store_without_a_code_block(file_store, app_env) -> None:
    # given a file store (the sidebar also shows its migration command)
    app_env(file_store.uri)
    # when the sidebar is drawn (AppTest keeps no sidebar of app.py, so it is drawn alone)
    at = AppTest.from_function(_sidebar_alone, default_timeout=60).run()
    # then the store and the command are code spans in markdown: a code block would load
    # Streamlit's 1.5 MB syntax highlighter on every page's first view
    sidebar = [m.value for m in at.sidebar.markdown]
    assert code_span(load_settings().tracking_uri) in sidebar
    assert any(text.startswith("`mlflow migrate-filestore ") for text in sidebar)
    assert at.get("code") == []


@pytest.fixture(name="open_on")
def open_on_fixture(markdown_store, app_env):
    """Open a page of the dashboard on the markdown-named store."""

    def open_on(page: str, **extra: str):
        app_env(markdown_store.uri, MLFLOW_EXPERIMENT_NAME=EXPERIMENT, **extra)
        at = open_page(page)
        assert exceptions(at) == []
        return at

    return open_on


def test_runs_page_shows_the_run_name_verbatim(open_on) -> None:
    # given a run named with markdown / when the Runs page opens
    at = open_on("pages/runs.py")
    # then the recommendation's markdown source escapes the name wherever it appears
    (banner,) = [e.value for e in [*at.success, *at.warning] if "ecommend" in e.value]
    assert RUN_NAME not in banner
    assert SHOWN_RUN in banner
    # and the caption under the title names the experiment literally, in core's bold
    assert any(f"run(s) in **{literal(EXPERIMENT)}**." in c.value for c in at.caption)


def test_promotion_banner_and_sidebar_show_the_name_verbatim(
    open_on, markdown_store_template, markdown_store, promoted_states, tmp_path
) -> None:
    # given the markdown-named run promoted by a person whose name holds markdown too
    settings = load_settings(
        {
            "MLFLOW_TRACKING_URI": markdown_store.uri,
            "PROMOTION_MANIFEST": str(tmp_path / "deploy" / "promotion.json"),
        }
    )
    install_champion(promoted_states, markdown_store_template, settings)
    # when the Promotion page opens
    at = open_on("pages/promotion.py")
    # then the champion banner's markdown escapes the run name, the person and the reason
    (banner,) = [i.value for i in at.info if "Champion:" in i.value]
    assert f"**Champion:** {SHOWN_RUN} (`{markdown_store.run_id}`)" in banner
    assert literal(PERSON) in banner and literal(REASON) in banner
    # and the sidebar's selection names the run literally
    assert any(f"Run: **{SHOWN_RUN}**" in c.value for c in at.sidebar.caption)


def test_monitoring_offers_no_simulation_for_a_model_of_other_features(open_on) -> None:
    # given a model whose features are not the demo book's (two renamed, holding markdown)
    # when Monitoring opens with nothing promoted and no decision log
    at = open_on("pages/monitoring.py")
    # then the simulated feed is not offered; the default is an upload
    source = at.radio(key="monitoring_source")
    assert source.options == ["Decision log", "Upload a file"]
    assert source.value == "Upload a file"
    # and one line says why, naming the run and the features verbatim
    (why,) = [c.value for c in at.caption if c.value.startswith("No simulated feed")]
    assert f"**{SHOWN_RUN}**" in why
    assert "needs 2 it does not" in why and all(literal(f) in why for f in RENAMED.values())


def test_whatif_feature_labels_show_feature_names_verbatim(open_on) -> None:
    # given a model whose features are named with markdown / when What-if opens
    at = open_on("pages/whatif.py")
    # then each such feature's input label escapes its name, plain names stay as they are
    labels = [w.label for w in at.text_input]
    for feature in RENAMED.values():
        assert any(label.startswith(f"{literal(feature)}  ·  range") for label in labels)
        assert not any(label.startswith(feature) for label in labels)
    assert any(label.startswith("annual_income") for label in labels)


def _error_naming_a_run() -> None:
    """A page script showing a core error whose message names a run (for AppTest)."""
    from core.errors import ModelLoadError
    from core.sentence import Sentence
    from ui.shared.context import show_error

    show_error(ModelLoadError(Sentence("Run '{0}' logged no model.", "**x** | y"), fix="Pick one."))


def test_a_core_error_naming_a_run_shows_the_name_verbatim() -> None:
    # given a core error whose message keeps a run's name apart / when a page shows it
    at = AppTest.from_function(_error_naming_a_run).run()
    # then the name is escaped inside the bold message, the fix follows
    assert at.error[0].value == "**Run '\\*\\*x\\*\\* \\| y' logged no model.**\n\nPick one."
