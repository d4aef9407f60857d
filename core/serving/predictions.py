"""Turn the Scorer's result into response items and decision-log batches (no scoring here)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from core.decision_log.writer import DecisionBatch, DecisionLog, DecisionLogError
from core.serving.batcher import ScoringBatcher
from core.serving.errors import request_error
from core.serving.model_holder import ServedModel
from core.serving.request_parsing import ParsedApplicants
from core.serving.scored_rows import ScoredRows


@dataclass(frozen=True)
class Scored:
    """Applicants and the Scorer's numbers on them, with the model that scored them."""

    loaded: ServedModel
    parsed: ParsedApplicants
    rows: ScoredRows


async def score(batcher: ScoringBatcher, loaded: ServedModel, parsed: ParsedApplicants) -> Scored:
    """Score through the one scoring path (batched with concurrent requests on the same model)."""
    rows = await batcher.score(loaded, parsed.columns, len(parsed.ids))
    return Scored(loaded, parsed, rows)


Reasons = list[list[tuple[str, float, str]]]


def reasons_of(scored: Scored) -> Reasons:
    """Per applicant, (feature, contribution, text) of its adverse reasons (declined only)."""
    rows = scored.rows
    position = {name: j for j, name in enumerate(rows.features)}
    out: Reasons = []
    for i in range(len(rows)):
        out.append(
            [
                (str(name), float(rows.contributions[i, position[name]]), str(text))
                for name, text in zip(rows.reason_features[i], rows.reason_texts[i], strict=True)
                if name and text
            ]
        )
    return out


def prediction_items(scored: Scored, reasons: Reasons, *, explain: bool) -> list[dict[str, object]]:
    """The response's predictions: id, probability, decision, reasons, warnings (+ SHAP)."""
    rows = scored.rows
    items: list[dict[str, object]] = []
    for i in range(len(rows)):
        item: dict[str, object] = {}
        if scored.parsed.ids[i] is not None:
            item["id"] = scored.parsed.ids[i]
        item["probability_of_default"] = float(rows.probability[i])
        item["decision"] = str(rows.decision[i])
        item["reasons"] = [{"feature": f, "contribution": c, "text": t} for f, c, t in reasons[i]]
        item["warnings"] = scored.parsed.warnings[i]
        if explain:
            item["raw_score"] = float(rows.raw_score[i])
            item["base_value"] = rows.base_value
            item["contributions"] = dict(
                zip(rows.features, rows.contributions[i].tolist(), strict=True)
            )
        items.append(item)
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
    scored: Scored, reasons: Reasons, request_id: str, client_id: str | None = None
) -> DecisionBatch:
    """The decision-log batch of a scored request (client_id: the JWT's client, if any)."""
    identity = scored.loaded.identity
    return DecisionBatch(
        time=datetime.now(UTC),
        request_id=request_id,
        run_id=identity.run_id,
        threshold=float(identity.threshold),
        applicant_ids=list(scored.parsed.ids),
        probabilities=scored.rows.probability.tolist(),
        decisions=[str(d) for d in scored.rows.decision],
        reasons=[[name for name, _, _ in row] for row in reasons],
        warnings=scored.parsed.warnings,
        features=scored.parsed.features,
        client_id=client_id,
    )
