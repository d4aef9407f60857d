"""The recommended run: the best by the primary metric among runs whose CV is stable.

When no run's CV is shown stable but some are inconclusive (a small book: too few or too
small folds for the stability test to tell), the recommendation ranks those and says so in
its sentence; the CV-stable gate still does not pass them without a written force reason.
Runs within noise of the best val_auc are a tie, chosen by a stated tie-break (core.runs.ties).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from core.runs.stability import (
    DEFAULT_PRIMARY_METRIC,
    INCONCLUSIVE,
    STABLE,
    UNSTABLE,
    StabilityRule,
    higher_is_better,
    stability_flags,
)
from core.runs.ties import TIE_METRIC, Tie, find_tie
from core.sentence import Sentence


@dataclass(frozen=True)
class Recommendation:
    """The recommended run and the reason, in one sentence (naming the run apart)."""

    run_id: str | None
    run_name: str | None
    metric: str
    value: float | None
    reason: str
    # Runs equivalent within noise of the best (ids, best first by the tie-break) and the rule
    # that chose among them; empty when there was no tie.
    tied_run_ids: tuple[str, ...] = ()
    tie_rule: str = ""
    tie_best_run_id: str = ""
    # The CV verdict of the runs ranked: "stable", or "inconclusive" when none was stable.
    ranked_flag: str = STABLE


def _no_recommendation(label: str, n_eligible: int, rule: StabilityRule) -> str:
    """Why nothing is recommended."""
    if not n_eligible:
        return f"No finished run with a model logged {label}."
    return (
        f"None of the {n_eligible} finished run(s) with a model and {label} is stable or "
        f"inconclusive by the rule ({rule.describe()}): every one is unstable or logged no CV."
    )


def _ranked_kind(flag: str) -> str:
    """How the ranked runs are named in the sentence."""
    return "stable" if flag == STABLE else "CV-inconclusive"


def _inconclusive_note(flag: str) -> str:
    """The caveat a recommendation among inconclusive runs carries."""
    if flag == STABLE:
        return ""
    return (
        " No run's CV stability could be established: the folds are too few or too small for "
        "the test to tell (see the stability column); the CV-stable gate will not pass them "
        "without a written force reason."
    )


def recommend_run(
    runs: pd.DataFrame,
    rule: StabilityRule,
    metric: str = DEFAULT_PRIMARY_METRIC,
    *,
    maximize: bool | None = None,
    flags: pd.Series | None = None,
    paired: Mapping[str, tuple[float, float]] | None = None,
) -> Recommendation:
    """The best finished run with a model by `metric` among stable runs, with the reason.

    `maximize` defaults to True except for metrics named like a loss or an error; `flags`
    (indexed like `runs`) saves recomputing the verdicts when the caller has them. Runs within
    noise of the best val_auc are a tie (core.runs.ties); `paired` maps a run id to the paired
    DeLong interval of its AUC − the best's, where the caller could compute it.
    """
    if maximize is None:
        maximize = higher_is_better(metric)
    label = metric.removeprefix("metrics.")
    if runs.empty:
        return Recommendation(None, None, metric, None, f"There is no run to rank by {label}.")
    if metric not in runs.columns:
        return Recommendation(None, None, metric, None, f"No run logged {label}.")
    flags = stability_flags(runs, rule) if flags is None else flags.reindex(runs.index)
    values = pd.to_numeric(runs[metric], errors="coerce")
    eligible = (runs["status"] == "FINISHED") & runs["has_model"].astype(bool) & values.notna()
    ranked_flag = STABLE if (eligible & (flags == STABLE)).any() else INCONCLUSIVE
    candidates = runs[eligible & (flags == ranked_flag)]
    if candidates.empty:
        reason = _no_recommendation(label, int(eligible.sum()), rule)
        return Recommendation(None, None, metric, None, reason)
    ranked = values[candidates.index]
    best_index = ranked.idxmax() if maximize else ranked.idxmin()
    by_index = {
        index: paired[str(run_id)]
        for index, run_id in candidates["run_id"].items()
        if paired and str(run_id) in paired
    }
    tie = find_tie(candidates, best_index, by_index) if metric == TIE_METRIC else None
    if tie is not None:
        return _tie_recommendation(runs, values, tie, best_index, ranked_flag)
    best = runs.loc[best_index]
    set_aside = [(int((eligible & (flags == UNSTABLE)).sum()), "unstable")]
    if ranked_flag == STABLE:
        set_aside.append((int((eligible & (flags == INCONCLUSIVE)).sum()), "inconclusive"))
    aside = [f"{n} {kind} run(s)" for n, kind in set_aside if n]
    direction = "highest" if maximize else "lowest"
    reason = Sentence(
        f"{{0}} has the {direction} {label} ({values[best_index]:.4f}) of "
        f"{len(candidates)} {_ranked_kind(ranked_flag)} run(s) ({rule.describe()})"
        + (f"; {' and '.join(aside)} were set aside." if aside else ".")
        + _inconclusive_note(ranked_flag),
        best["run_name"],
    )
    return Recommendation(
        str(best["run_id"]),
        str(best["run_name"]),
        metric,
        float(values[best_index]),
        reason,
        ranked_flag=ranked_flag,
    )


def _tie_recommendation(
    runs: pd.DataFrame, values: pd.Series, tie: Tie, best_index: object, ranked_flag: str
) -> Recommendation:
    """The tie-break winner among runs equivalent within noise, saying so and which rule chose."""
    winner = runs.loc[tie.winner]
    others = [i for i in tie.tied if i != tie.winner]
    names = [winner["run_name"], runs.loc[best_index, "run_name"], *runs.loc[others, "run_name"]]
    listed = ", ".join(f"{{{k}}} ({values[index]:.4f})" for k, index in enumerate(others, start=2))
    reason = Sentence(
        f"{{0}} is recommended by the tie-break: {len(tie.tied)} {_ranked_kind(ranked_flag)} "
        f"runs are equivalent within noise on val_auc of the best, {{1}} at "
        f"{values[best_index]:.4f} ({tie.method}): {{0}} ({values[tie.winner]:.4f}), {listed}. "
        f"Rule that decided: {tie.rule}." + _inconclusive_note(ranked_flag),
        *names,
    )
    return Recommendation(
        str(winner["run_id"]),
        str(winner["run_name"]),
        TIE_METRIC,
        float(values[tie.winner]),
        reason,
        tuple(str(runs.loc[i, "run_id"]) for i in tie.tied),
        tie.rule,
        str(runs.loc[best_index, "run_id"]),
        ranked_flag,
    )
