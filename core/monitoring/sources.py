"""Recent data for monitoring from a file or the simulated demo, and outcomes joined by id."""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
import pandas as pd

from core.data.synthetic import (
    DEMO_ID_COLUMN,
    DEMO_TARGET,
    coerce_binary_target,
    make_recent_applications,
    make_synthetic_credit_data,
)
from core.decision_log.contract import DECISION, SCORE
from core.decision_log.reader import RecentData
from core.errors import DataValidationError
from core.evaluation.eval_data import score_frame
from core.scoring.loaded_model import LoadedModel
from core.scoring.prepare import with_model_column_names

OUTCOME = "outcome"
ID_COLUMNS = ("request_id", "applicant_id")
DATE_CANDIDATES = ("time", "application_date", "date", "decision_date")
OUTCOME_CANDIDATES = (OUTCOME, "default", "bad", "target", "label", "y")
SIMULATED_SOURCE = "simulated recent applications (demo)"
_SHOWN = 5


def guess_column(columns: Sequence[str], candidates: Sequence[str]) -> str | None:
    """The first candidate present among the columns (case-insensitive), else None."""
    lowered = {str(c).lower(): c for c in columns}
    return next((lowered[c] for c in candidates if c in lowered), None)


def _times(frame: pd.DataFrame, date_column: str | None) -> pd.Series:
    """The rows' timestamps in UTC (NaT everywhere when the file has no date column)."""
    if date_column is None:
        return pd.Series(pd.NaT, index=frame.index, dtype="datetime64[us, UTC]")
    if date_column not in frame.columns:
        raise DataValidationError(
            f"Date column '{date_column}' is not in the recent data.",
            fix=f"Pick one of: {', '.join(map(str, frame.columns[:12]))}.",
        )
    when = pd.to_datetime(frame[date_column], utc=True, errors="coerce", format="mixed")
    if when.isna().all():
        raise DataValidationError(
            f"Column '{date_column}' holds no dates.", fix="Pick a date column (YYYY-MM-DD)."
        )
    return when


def from_table(
    frame: pd.DataFrame,
    *,
    features: Sequence[str],
    run_id: str,
    threshold: float,
    model: LoadedModel | None = None,
    date_column: str | None = None,
    outcome_column: str | None = None,
    source: str = "uploaded file",
) -> RecentData:
    """Recent rows of a file: logged scores when present, else the model's scores."""
    if frame.empty:
        raise DataValidationError("The recent data has no rows.", fix="Give a file with rows.")
    frame = with_model_column_names(frame, features)
    if SCORE in frame.columns:
        scores = pd.to_numeric(frame[SCORE], errors="coerce").to_numpy(dtype=float)
    elif model is not None:
        scores, _unseen, _missing = score_frame(model, frame)
    else:
        raise DataValidationError(
            f"The file has no '{SCORE}' column and no model was given to score it.",
            fix=f"Add the logged '{SCORE}' column, or monitor it against a promoted run.",
        )
    decisions = pd.DataFrame(
        {
            "time": _times(frame, date_column).to_numpy(),
            "run_id": frame["run_id"].astype(str) if "run_id" in frame.columns else run_id,
            SCORE: scores,
        }
    )
    decisions["threshold"] = float(threshold)
    if DECISION in frame.columns:
        decisions[DECISION] = frame[DECISION].astype("string").to_numpy()
    for column in ID_COLUMNS:
        if column in frame.columns:
            decisions[column] = frame[column].astype("string").to_numpy()
    if outcome_column:
        if outcome_column not in frame.columns:
            raise DataValidationError(f"Outcome column '{outcome_column}' is not in the data.")
        decisions[OUTCOME] = _outcome_values(frame[outcome_column], outcome_column)
    present = [f for f in features if f in frame.columns]
    return RecentData(decisions, frame[present].reset_index(drop=True), source)


def _outcome_values(values: pd.Series, name: str) -> np.ndarray:
    """Outcomes as 0/1 floats, NaN where not known yet."""
    known = values.notna()
    coded = coerce_binary_target(values[known], name)
    result = np.full(len(values), np.nan)
    result[known.to_numpy()] = coded.to_numpy(dtype=float)
    return result


@functools.cache
def simulated_features() -> frozenset[str]:
    """The feature columns the simulated feed generates (the demo book's)."""
    columns = make_synthetic_credit_data(n_rows=10).columns
    return frozenset(map(str, columns)) - {DEMO_ID_COLUMN, DEMO_TARGET}


def features_not_simulated(features: Sequence[str]) -> list[str]:
    """The model's features the simulated feed does not generate, in the model's order; empty
    when the simulation can stand in for the model's applicants (a model of the demo book)."""
    generated = simulated_features()
    return [str(f) for f in features if str(f) not in generated]


def simulated(
    model: LoadedModel, run_id: str, threshold: float, max_drift: float, n_rows: int = 6_000
) -> RecentData:
    """Six months of simulated applications with outcomes, scored by the model (the demo).

    Raises DataValidationError for a model with features the generator does not make.
    """
    missing = features_not_simulated(model.feature_names)
    if missing:
        raise DataValidationError(
            f"The simulated feed generates the demo book's features only; this model also needs "
            f"{len(missing)} others ({_examples(missing)}).",
            fix="Monitor this model on its decision log or on an uploaded file.",
        )
    frame = make_recent_applications(n_rows=n_rows, max_drift=max_drift)
    return from_table(
        frame,
        features=model.feature_names,
        run_id=run_id,
        threshold=threshold,
        model=model,
        date_column="application_date",
        outcome_column="default",
        source=SIMULATED_SOURCE,
    )


def _examples(values: Sequence[object]) -> str:
    """A few values, then how many more."""
    shown = ", ".join(str(v) for v in values[:_SHOWN])
    return shown + (f" and {len(values) - _SHOWN} more" if len(values) > _SHOWN else "")


def _join_key(decisions: pd.DataFrame, outcomes: pd.DataFrame) -> str | None:
    """applicant_id when both sides carry it (a request may hold a batch), else request_id."""
    shared = [c for c in ID_COLUMNS if c in outcomes.columns and c in decisions.columns]
    filled = [c for c in shared if decisions[c].notna().any()]
    return next((c for c in ("applicant_id", "request_id") if c in filled), None)


def join_outcomes(
    recent: RecentData,
    outcomes: pd.DataFrame,
    id_column: str | None = None,
    outcome_column: str | None = None,
) -> RecentData:
    """Attach outcomes by request or applicant id; unknown and duplicate ids are counted."""
    id_column = id_column or _join_key(recent.decisions, outcomes)
    if id_column is None or id_column not in outcomes.columns:
        raise DataValidationError(
            "The outcomes file has no id column shared with the decisions "
            f"({' or '.join(ID_COLUMNS)}).",
            fix="Add a request_id or applicant_id column to the outcomes file.",
        )
    if id_column not in recent.decisions.columns:
        raise DataValidationError(f"The decisions carry no '{id_column}' to join outcomes on.")
    outcome_column = outcome_column or guess_column(
        [c for c in outcomes.columns if c != id_column], OUTCOME_CANDIDATES
    )
    if outcome_column is None or outcome_column not in outcomes.columns:
        raise DataValidationError(
            "The outcomes file has no outcome column.",
            fix=f"Name it one of: {', '.join(OUTCOME_CANDIDATES)} (1 = default, 0 = repaid).",
        )
    table = pd.DataFrame(
        {
            "id": outcomes[id_column].astype("string"),
            "y": _outcome_values(outcomes[outcome_column], outcome_column),
        }
    ).dropna()
    notes = list(recent.notes)
    per_id = table.groupby("id", sort=False)["y"].agg(["nunique", "size", "first"])
    conflicting = per_id.index[per_id["nunique"] > 1].tolist()
    repeated = int((per_id["size"] > 1).sum()) - len(conflicting)
    if repeated:
        notes.append(
            f"{repeated} outcome id(s) appear more than once with the same outcome: kept once."
        )
    if conflicting:
        notes.append(
            f"{len(conflicting)} outcome id(s) appear more than once with different outcomes "
            f"({_examples(conflicting)}): left out until the file is corrected."
        )
    clean = per_id.loc[per_id["nunique"] == 1, "first"]
    keys = recent.decisions[id_column].astype("string")
    unknown = clean.index[~clean.index.isin(keys.dropna())].tolist()
    if len(unknown) == len(clean):
        raise DataValidationError(
            f"None of the {len(clean)} outcome ids matches a decision's {id_column}.",
            fix="Check that the outcomes file and the decisions use the same ids.",
        )
    if unknown:
        notes.append(
            f"{len(unknown)} outcome id(s) match no decision ({_examples(unknown)}): ignored."
        )
    if keys.dropna().duplicated().any():
        notes.append(
            f"Some {id_column}s name more than one decision (a batch request, or a repeat "
            "applicant): their outcome is given to each of them."
        )
    decisions = recent.decisions.copy()
    decisions[OUTCOME] = keys.map(clean).to_numpy(dtype=float, na_value=np.nan)
    return RecentData(decisions, recent.features, recent.source, tuple(notes))
