"""One batch of applicants scored into output rows: the service's own scoring call for
`--explain all`; SHAP only for the declined rows with `declines`; none with `none`."""

from __future__ import annotations

import re
from typing import Literal

import numpy as np
import pandas as pd

from core.batch.source import applicant_ids
from core.errors import DataValidationError
from core.scoring.batch import SCORE_COLUMNS
from core.scoring.reason_codes import DEFAULT_REASON_COUNT, reason_table, top_reason_features
from core.scoring.scorer import DECLINE, decide
from core.serving.batcher import score_with
from core.serving.model_holder import ServedModel
from core.serving.scored_rows import ScoredRows

Explain = Literal["all", "declines", "none"]
EXPLAIN_CHOICES: tuple[str, ...] = ("all", "declines", "none")
REASON_COLUMNS = tuple(
    f"reason_{k}_{part}" for k in range(1, DEFAULT_REASON_COUNT + 1) for part in ("code", "text")
)
_ROW = re.compile(r"\brow ([\d,]+)")


def output_columns(served: ServedModel) -> list[str]:
    """The output's columns, in order; the score is named by its scale."""
    score = SCORE_COLUMNS[served.identity.score_scale]
    return [
        "applicant_id",
        score,
        "raw_score",
        "decision",
        *REASON_COLUMNS,
        "run_id",
        "threshold",
        "model_sha256",
        "promoted",
    ]


def _explained(served: ServedModel, frame: pd.DataFrame, explain: Explain) -> dict[str, object]:
    """Score, raw score, decision and reason codes/texts (None when not explained)."""
    if explain == "all":
        rows = score_with(served, frame)
        return _columns(rows.probability, rows.raw_score, rows.decision, rows.reason_features,
                        rows.reason_texts)  # fmt: skip
    scorer = served.scorer
    prepared = scorer.prepare(frame)
    raw = scorer.raw_scores(prepared)
    probability = scorer.probability_from_raw(raw)
    decision = decide(probability, served.threshold)
    n = DEFAULT_REASON_COUNT
    codes = np.full((len(frame), n), None, dtype=object)
    texts = np.full((len(frame), n), None, dtype=object)
    if explain == "declines":
        codes[:], texts[:] = "", ""
        declined = np.flatnonzero(decision == DECLINE)
        if len(declined):
            subset = prepared.frame.iloc[declined]
            contributions = scorer.contributions(subset).values
            book = served.book
            texts[declined] = reason_table(
                contributions, subset, np.ones(len(declined), bool), book, n
            ).to_numpy(dtype=object)
            codes[declined] = top_reason_features(contributions, n, book.withheld)
    return _columns(probability, raw, decision, codes, texts)


def _columns(
    probability: np.ndarray,
    raw: np.ndarray,
    decision: np.ndarray,
    codes: np.ndarray,
    texts: np.ndarray,
) -> dict[str, object]:
    """The scored columns; a code is given only where its reason text is (declined rows)."""
    columns: dict[str, object] = {
        "score": np.asarray(probability, dtype="float64"),
        "raw_score": np.asarray(raw, dtype="float64"),
        "decision": np.asarray(decision, dtype=object),
    }
    for k in range(DEFAULT_REASON_COUNT):
        text = texts[:, k]
        given = np.array([t is not None and t != "" for t in text], dtype=bool)
        code = np.where(given, codes[:, k], np.where(pd.isna(text), None, ""))
        columns[f"reason_{k + 1}_code"] = code
        columns[f"reason_{k + 1}_text"] = text
    return columns


def score_rows(
    served: ServedModel,
    model_promoted: bool,
    frame: pd.DataFrame,
    explain: Explain,
    id_column: str | None,
    first_row: int = 0,
) -> pd.DataFrame:
    """Output rows of one batch (first_row: its position in the input, for messages and ids)."""
    try:
        scored = _explained(served, frame, explain)
    except DataValidationError as exc:
        raise DataValidationError(_shifted(exc.message, first_row), fix=exc.fix) from exc
    identity = served.identity
    score_name = SCORE_COLUMNS[identity.score_scale]
    out = pd.DataFrame({"applicant_id": applicant_ids(frame, id_column, first_row).to_numpy()})
    out[score_name] = scored.pop("score")
    for name, values in scored.items():
        out[name] = pd.array(values, dtype="str") if name != "raw_score" else values
    out["run_id"] = identity.run_id
    out["threshold"] = float(identity.threshold)
    out["model_sha256"] = identity.model_sha256
    out["promoted"] = model_promoted
    return out[output_columns(served)]


def _shifted(message: str, first_row: int) -> str:
    """A batch's 'row 7' message as the input's row number."""
    if not first_row:
        return message
    return _ROW.sub(lambda m: f"row {int(m[1].replace(',', '')) + first_row:,}", message)


def scored_rows_frame(rows: ScoredRows) -> pd.DataFrame:
    """The service's answer for some applicants, in the output's column names."""
    columns = _columns(
        rows.probability, rows.raw_score, rows.decision, rows.reason_features, rows.reason_texts
    )
    return pd.DataFrame(columns)
