"""Runs page decisions as pure functions: ranking, column order, notes, selection, summaries."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pandas as pd

from core.runs.analysis import numeric_column
from core.runs.stability import INCONCLUSIVE, NO_CV, STABLE, UNSTABLE, higher_is_better
from core.scoring.feature_policy import FeaturePolicy
from core.sentence import Sentence

FLAG_TEXT = {
    STABLE: "✔ stable",
    UNSTABLE: "⚠ unstable",
    INCONCLUSIVE: "? inconclusive",
    NO_CV: "— no CV logged",
}
# Links come right after the headline columns so they stay visible without scrolling.
_HEAD_COLUMNS = (
    "run_name", "role", "status", "primary", "val_auc", "val_ks", "cv_auc_mean", "cv_auc_std",
    "cv_auc_min", "cv_ks_mean", "stability", "overfit", "diagnostics", "whatif",
)  # fmt: skip
_TAIL_COLUMNS = ("start_time", "data_version", "child_runs", "model", "run_id")
# The stability summary shows fold AUC in full and KS by its mean (the fold plots show the rest).
SUMMARY_STAT_COLUMNS = ("cv_auc_mean", "cv_auc_std", "cv_auc_min", "cv_auc_max", "cv_ks_mean")
# The primary column already shows a headline metric when it is the one picked.
_HEADLINE_OF = {"metrics.val_auc": "val_auc", "metrics.val_ks": "val_ks"}


def runs_caption(n_runs: int, n_children: int, experiment: str) -> str:
    """The line under the title: how many runs, nested children, and that the URL is shareable."""
    children = (
        f"; {n_children:,} nested child run(s) are grouped under their parents"
        if n_children
        else ""
    )
    return Sentence(
        f"{n_runs:,} run(s) in **{{0}}**{children}. Selections and filters live in the page "
        "address: copy it to share exactly this view.",
        experiment,
    )


def rank_runs(runs: pd.DataFrame, primary: str) -> pd.DataFrame:
    """Runs best first by the primary metric (losses ascending), runs without it last."""
    return (
        runs.assign(_score=numeric_column(runs, primary))
        .sort_values(
            "_score", ascending=not higher_is_better(primary), na_position="last", kind="stable"
        )
        .drop(columns="_score")
    )


def table_column_order(primary: str, extra_columns: Sequence[str], present: Iterable[str]) -> list:
    """The runs table's column order: headline, links, extra columns, then the details."""
    available = set(present)
    order = [*_HEAD_COLUMNS, *extra_columns, *_TAIL_COLUMNS]
    order = [c for c in order if c != _HEADLINE_OF.get(primary)]
    return [c for c in dict.fromkeys(order) if c in available]


def protected_input_note(runs: pd.DataFrame, policy: FeaturePolicy) -> Sentence | None:
    """A sentence naming the runs whose logged features include a protected attribute."""
    if "params.features" not in runs.columns:
        return None
    features = runs["params.features"]
    found_in = {
        text: policy.protected_in(text.split(","))
        for text in features.dropna().unique()
        if isinstance(text, str)
    }
    flagged = [
        (str(name), found_in[text])
        for name, text in zip(runs["run_name"], features, strict=True)
        if isinstance(text, str) and found_in.get(text)
    ]
    if not flagged:
        return None
    justified = sorted({f for _, found in flagged for f in found} & set(policy.justified_inputs))
    listed = ", ".join(f"{{{k}}} ({', '.join(found)})" for k, (_, found) in enumerate(flagged))
    tail = (
        f" The policy justifies {', '.join(justified)}; any other fails the promotion gate."
        if justified
        else " The promotion gate fails them unless the policy justifies each."
    )
    return Sentence(
        f"{len(flagged)} run(s) use protected attributes as model inputs: {listed}.{tail}",
        *(name for name, _ in flagged),
    )


def table_notes(runs: pd.DataFrame) -> list[str]:
    """Sentences about runs that lack CV, a model, or that no run finished."""
    notes = []
    no_cv = int(runs["cv_auc_mean"].isna().sum())
    if no_cv:
        notes.append(
            f"{no_cv} run(s) logged no CV folds: their CV columns are empty and they are flagged "
            "'no CV logged' (retrain with `python -m core train`)."
        )
    no_model = int((~runs["has_model"].astype(bool)).sum())
    if no_model:
        notes.append(
            f"{no_model} run(s) logged no model: they cannot be diagnosed, scored, recommended "
            "or promoted."
        )
    if (runs["status"] != "FINISHED").all():
        notes.append("No run finished: nothing can be recommended until a run finishes.")
    return notes


def sync_selection(
    selected_before: Sequence[str],
    view_ids: Sequence[str],
    ticked: set[str],
    baseline: set[str],
) -> list[str]:
    """The selection after the table's ticks changed from `baseline` to `ticked`.

    Runs unticked leave the selection; runs newly ticked join it in table order; runs selected
    but not shown in the table (filtered out) stay selected.
    """
    added, removed = ticked - baseline, baseline - ticked
    kept = [r for r in selected_before if r not in removed]
    return kept + [r for r in view_ids if r in added and r not in selected_before]


def stability_summary(chosen: pd.DataFrame, verdicts: pd.DataFrame) -> pd.DataFrame:
    """CV statistics of the chosen runs with their verdict numbers (chosen and verdicts align)."""
    stats = [c for c in SUMMARY_STAT_COLUMNS if c in chosen]
    summary = chosen[["run_name", *stats]].reset_index(drop=True)
    numbers = verdicts.reset_index(drop=True)
    return summary.assign(
        folds=chosen["cv_auc_n"].to_numpy(),
        source=chosen["cv_source"].to_numpy(),
        expected_std=numbers["expected_std"],
        p_value=numbers["p_value"],
        worst_fold_se=numbers["worst_fold_se"],
        sizes=numbers["sizes"],
        stability=numbers["flag"].map(FLAG_TEXT),
    )


def folds_to_fetch(chosen: pd.DataFrame, folds: pd.DataFrame) -> list[str]:
    """Runs with CV statistics but no folds in the table (their folds need a history read)."""
    have = set(folds["run_id"])
    with_cv = chosen.loc[chosen["cv_auc_mean"].notna(), "run_id"]
    return [r for r in with_cv if r not in have]


def has_gap_data(gaps: pd.DataFrame) -> bool:
    """True when some run has at least two of train, CV and validation AUC."""
    return bool(gaps[["train_auc", "cv_auc_mean", "val_auc"]].notna().sum(axis=1).ge(2).any())


def varying_params(runs: pd.DataFrame, param_columns: Sequence[str]) -> list[str]:
    """Params taking at least two distinct values among these runs."""
    return [c for c in param_columns if runs[c].dropna().astype("str").nunique() > 1]
