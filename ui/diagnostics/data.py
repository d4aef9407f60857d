"""Model diagnostics widgets: which run, its model, and which labelled data to evaluate on."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from core.errors import GovernanceError
from core.evaluation import eval_data
from core.run_schema import model_uri
from core.runs import labels
from core.scoring.feature_policy import load_feature_policy
from core.scoring.loaded_model import LoadedModel
from core.store.access import RunsTable
from ui.diagnostics import cache as cached
from ui.diagnostics.attach import offer_attach
from ui.shared import cache, cache_evaluation
from ui.shared.context import StoreContext, show_error
from ui.shared.markdown_text import literal, with_literal_names
from ui.shared.selection import run_selectbox

RUN_KEY = "diag_run"
SOURCE_KEY = "diag_source"
UPLOAD_KEY = "diag_upload"
PATH_KEY = "diag_path"
LABEL_KEY = "diag_label"
LOGGED = "Logged validation set"
UPLOAD = "Upload a labelled file"
PATH = "File path"


def run_label(runs: pd.DataFrame, run_id: str) -> str:
    """'name · abcd1234' for a run id."""
    name = runs.loc[runs["run_id"] == run_id, "run_name"]
    return labels.run_label(name.iloc[0] if len(name) else "?", run_id)


def pick_run(context: StoreContext, table: RunsTable) -> pd.Series | None:
    """The run to diagnose: the shared selection (link, other page, default rule) in a selectbox."""
    runs = table.runs
    if runs.empty:
        st.info("No runs yet. Train some with `python -m core train --demo`.")
        return None
    usable = runs.loc[runs["has_model"] | runs["has_validation_set"]]
    if usable.empty:
        st.info(
            "No run in this experiment logged a model or a validation set, so there is nothing "
            "to diagnose. Log a model with `mlflow.lightgbm.log_model(model, name='model')` or "
            "train governed runs with `python -m core train --demo`."
        )
        return None
    run_id = run_selectbox(
        "Run",
        context,
        runs,
        usable,
        key=RUN_KEY,
        why_unusable="logged neither a model nor a validation set",
    )
    return usable.loc[usable["run_id"] == run_id].iloc[0]


def load_model(context: StoreContext, run: pd.Series) -> LoadedModel | None:
    """The run's model, or None after saying why it cannot be used."""
    if not run["has_model"]:
        st.warning(
            "This run logged no model: importance, SHAP, monotonicity and scoring a file are "
            "unavailable; the logged validation scores still give ROC, KS and the threshold.",
            icon=":material/warning:",
        )
        return None
    try:
        return cache.model(context.tracking_uri, model_uri(run["run_id"]))
    except GovernanceError as exc:
        show_error(exc)
        return None


def _file_input(source: str, root: Path | None) -> tuple[str, bytes] | None:
    """The name and bytes of the user's labelled file, or None until one is given."""
    if source == UPLOAD:
        upload = st.file_uploader(
            "Labelled file (CSV or Parquet) with the model's features and a 0/1 label column",
            type=["csv", "parquet"],
            key=UPLOAD_KEY,
        )
        return (upload.name, upload.getvalue()) if upload is not None else None
    if root is None:
        return None
    path = st.text_input(
        f"Path to a labelled CSV or Parquet file under {root}",
        key=PATH_KEY,
        placeholder="holdout.csv",
        help="Relative to DATA_ROOT, or absolute inside it. Files outside it, symbolic links "
        "that lead out of it and anything but regular files are refused.",
    )
    return eval_data.read_path(path, root) if path.strip() else None


def _labelled_file(
    context: StoreContext, run_id: str, source: str, attachable: bool
) -> eval_data.EvaluationData | None:
    """Read, label and score the user's file with the run's model; offer to attach it."""
    given = _file_input(source, context.settings.data_root)
    if given is None:
        st.info("Give a labelled file to evaluate this run on it.")
        return None
    name, content = given
    fingerprint = eval_data.content_fingerprint(content)
    columns = cached.file_columns(name, fingerprint, content)
    guess = eval_data.guess_label_column(columns)
    label = st.selectbox(
        "Label column (0 = good, 1 = bad)",
        columns,
        index=columns.index(guess) if guess in columns else None,
        key=LABEL_KEY,
        width=420,
    )
    if label is None:
        st.info("Pick the label column.")
        return None
    data = cached.labelled_file_data(
        context.tracking_uri, run_id, name, fingerprint, label, _content=content
    )
    offer_attach(context, run_id, name, content, label, fingerprint, attachable=attachable)
    return data


def pick_data(
    context: StoreContext, run: pd.Series, model: LoadedModel | None
) -> eval_data.EvaluationData | None:
    """The evaluation data the user chose, or None after saying what is missing."""
    root = context.settings.data_root
    options = ([LOGGED] if run["has_validation_set"] else []) + [UPLOAD]
    options += [PATH] if root is not None else []
    if st.session_state.get(SOURCE_KEY) not in options:
        st.session_state[SOURCE_KEY] = options[0]
    source = st.radio("Evaluation data", options, key=SOURCE_KEY, horizontal=True)
    if root is None:
        st.caption(
            "Reading a file by its path on the server is off: set DATA_ROOT to the folder "
            "analysts may read from to turn it on."
        )
    notice = st.empty()
    if not run["has_validation_set"]:
        notice.info(
            "This run logged no validation set. Give a labelled CSV or Parquet file (the "
            "run's features plus a 0/1 label column) to get ROC, KS and the threshold policy."
        )
    try:
        if source == LOGGED:
            return cache_evaluation.validation_data(context.tracking_uri, run["run_id"])
        if model is None:
            st.warning("Scoring a file needs the run's model, which is unavailable (see above).")
            return None
        data = _labelled_file(context, run["run_id"], source, not run["has_validation_set"])
    except GovernanceError as exc:
        show_error(exc)
        return None
    if data is not None:
        notice.empty()  # the file now supplies what the run lacked: the notice would be stale
    return data


def describe_data(data: eval_data.EvaluationData, score_name: str = "risk score") -> None:
    """Say which data is shown, its size and bad rate, the score's scale, what the model missed."""
    scale_note = (
        "a risk score: it ranks applicants but is not a probability of default"
        if score_name == "risk score"
        else f"the {score_name}"
    )
    st.caption(
        f"Evaluating on the **{data.source}**: {data.n:,} rows, {data.n_bads:,} bads "
        f"(bad rate {data.bad_rate:.2%}). The score is {scale_note}."
    )
    if data.unseen_categories:
        listed = "; ".join(
            f"{literal(name)}: {', '.join(map(literal, values[:10]))}"
            + (" …" if len(values) > 10 else "")
            + (
                f" in {data.unseen_rows[name].describe(shown=3)}"
                if name in data.unseen_rows
                else ""
            )
            for name, values in data.unseen_categories.items()
        )
        count = sum(len(v) for v in data.unseen_categories.values())
        st.warning(
            f"{count} category value(s) the model never saw in training ({listed}). LightGBM "
            "silently treats them as missing, so those rows are scored as if the value were "
            "absent.",
            icon=":material/warning:",
        )
    if data.missing_values:
        listed = ", ".join(f"{literal(k)} ({v:,})" for k, v in data.missing_values.items())
        st.caption(f"Missing values scored as missing: {listed}.")


def flag_protected_inputs(context: StoreContext, model: LoadedModel | None) -> None:
    """Warn when the run's model uses a protected attribute, with the policy's justification."""
    if model is None:
        return
    policy = load_feature_policy(context.settings.feature_policy_file)
    if sentence := policy.protected_inputs_sentence(model.feature_names):
        st.warning(with_literal_names(sentence), icon=":material/gpp_maybe:")
