"""Turn the Scorer's numbers into response items and decision-log batches, column-wise."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import numpy as np

from core.decision_log.writer import DecisionBatch, DecisionLog, DecisionLogError
from core.serving.batcher import ScoringBatcher
from core.serving.errors import request_error
from core.serving.explain_coalescer import ExplainCoalescer
from core.serving.model_holder import ServedModel
from core.serving.request_parsing import ParsedApplicants
from core.serving.scored_rows import Decided, Explained

ReasonsFor = Literal["none", "declines", "all"]
REASONS_CHOICES = ("declines", "all")


@dataclass(frozen=True)
class Scored:
    """Applicants and the Scorer's numbers on them, with the model that scored them."""

    loaded: ServedModel
    parsed: ParsedApplicants
    rows: Decided


async def score(batcher: ScoringBatcher, loaded: ServedModel, parsed: ParsedApplicants) -> Scored:
    """Probabilities and decisions through the one scoring path (batched with concurrent
    requests on the same model); no SHAP."""
    rows = await batcher.score(loaded, parsed.columns, len(parsed.ids))
    return Scored(loaded, parsed, rows)


async def explain(
    coalescer: ExplainCoalescer, scored: Scored, reasons_for: ReasonsFor
) -> Explained | None:
    """Exact SHAP and reasons of the declined rows, of every row, or of none (computed with
    the rows of concurrent requests, off the event loop)."""
    if reasons_for == "none":
        return None
    rows = scored.rows
    at = np.flatnonzero(rows.declined) if reasons_for == "declines" else np.arange(len(rows))
    return await coalescer.explain(scored.loaded, rows, at)


Reasons = list[list[tuple[str, float, str]]]


def reasons_of(count: int, found: Explained | None) -> Reasons:
    """Per applicant, (feature, contribution, text) of its adverse reasons (declined only)."""
    out: Reasons = [[] for _ in range(count)]
    if found is None or not len(found.at):
        return out
    names = found.reason_features
    texts = found.reason_texts
    columns = {name: j for j, name in enumerate(found.features)}
    index = np.vectorize(lambda n: columns.get(n, 0), otypes=[np.int64])(names)
    values = np.take_along_axis(found.contributions, index, axis=1).tolist()
    keep = (names != "") & (texts != "")
    for k, row in enumerate(found.at.tolist()):
        out[row] = [
            (n, v, t)
            for n, v, t, ok in zip(names[k], values[k], texts[k], keep[k], strict=True)
            if ok
        ]
    return out


def prediction_items(
    scored: Scored, reasons: Reasons, found: Explained | None, *, with_shap: bool
) -> list[dict[str, object]]:
    """The response's predictions: id, probability, decision, reasons, warnings (+ SHAP)."""
    rows = scored.rows
    ids = scored.parsed.ids
    probability = rows.probability.tolist()
    decision = rows.decision.tolist()
    warnings = scored.parsed.warnings
    items: list[dict[str, object]] = [
        {"id": ids[i]} if ids[i] is not None else {} for i in range(len(probability))
    ]
    for i, item in enumerate(items):
        item["probability_of_default"] = probability[i]
        item["decision"] = decision[i]
        item["reasons"] = [{"feature": f, "contribution": c, "text": t} for f, c, t in reasons[i]]
        item["warnings"] = warnings[i]
    if with_shap and found is not None:
        raw = rows.raw_score.tolist()
        contributions = found.contributions.tolist()
        for k, i in enumerate(found.at.tolist()):
            items[i]["raw_score"] = raw[i]
            items[i]["base_value"] = found.base_value
            items[i]["contributions"] = dict(zip(found.features, contributions[k], strict=True))
    return items


async def log_decisions(log: DecisionLog | None, batch: DecisionBatch) -> None:
    """Write a request's decisions before it is answered; 503 when they cannot be written."""
    if log is None:
        return
    try:
        await log.commit(batch)
    except DecisionLogError as exc:
        raise request_error(
            503,
            "decision log",
            f"The decisions were made but could not be logged, so none is answered ({exc.message})",
            "Retry later; the operator must make the decision log folder writable (DECISION_LOG).",
        ) from exc


def decision_batch(
    scored: Scored, reasons: Reasons | None, request_id: str, client_id: str | None = None
) -> DecisionBatch:
    """The decision-log batch of a scored request (client_id: the JWT's client, if any).

    reasons None: the declines' reasons come later (null in the log, then a reasons record).
    """
    identity = scored.loaded.identity
    decisions = scored.rows.decision.tolist()
    if reasons is None:
        logged: list[list[str] | None] = [None if d == "decline" else [] for d in decisions]
    else:
        logged = [[name for name, _, _ in row] for row in reasons]
    return DecisionBatch(
        time=datetime.now(UTC),
        request_id=request_id,
        run_id=identity.run_id,
        threshold=float(identity.threshold),
        applicant_ids=list(scored.parsed.ids),
        probabilities=scored.rows.probability.tolist(),
        decisions=decisions,
        reasons=logged,
        warnings=scored.parsed.warnings,
        features=scored.parsed.features,
        client_id=client_id,
    )
