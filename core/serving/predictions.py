"""Turn the Scorer's result into response items and decision-log batches (no scoring here)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from core.scoring.reason_codes import top_reason_features
from core.scoring.scorer import ScoringResult
from core.serving.batcher import ScoringBatcher
from core.serving.decision_log import DecisionBatch
from core.serving.model_holder import LoadedModel
from core.serving.request_parsing import ParsedApplicants


@dataclass(frozen=True)
class Scored:
    """Applicants and the Scorer's result on them, with the model that scored them."""

    loaded: LoadedModel
    parsed: ParsedApplicants
    result: ScoringResult


async def score(batcher: ScoringBatcher, loaded: LoadedModel, parsed: ParsedApplicants) -> Scored:
    """Score through the one scoring path (batched with concurrent requests on the same model)."""
    return Scored(loaded, parsed, await batcher.score(loaded, parsed.frame))


Reasons = list[list[tuple[str, float, str]]]


def reasons_of(scored: Scored) -> Reasons:
    """Per applicant, (feature, contribution, text) of its adverse reasons (declined only)."""
    result = scored.result
    names = top_reason_features(result.contributions, result.reasons.shape[1])
    texts = result.reasons.to_numpy(dtype=object)
    values = result.contributions.to_numpy(dtype="float64")
    position = {name: j for j, name in enumerate(result.contributions.columns)}
    out: Reasons = []
    for i in range(len(values)):
        out.append(
            [
                (str(name), float(values[i, position[name]]), str(text))
                for name, text in zip(names[i], texts[i], strict=True)
                if name and text
            ]
        )
    return out


def prediction_items(scored: Scored, reasons: Reasons, *, explain: bool) -> list[dict[str, object]]:
    """The response's predictions: id, probability, decision, reasons, warnings (+ SHAP)."""
    result = scored.result
    probability = result.scores["probability"].to_numpy(dtype="float64")
    decisions = result.scores["decision"].to_numpy(dtype=object)
    raw = result.scores["raw_score"].to_numpy(dtype="float64")
    names = [str(c) for c in result.contributions.columns]
    values = result.contributions.to_numpy(dtype="float64")
    items: list[dict[str, object]] = []
    for i in range(len(probability)):
        item: dict[str, object] = {}
        if scored.parsed.ids[i] is not None:
            item["id"] = scored.parsed.ids[i]
        item["probability_of_default"] = float(probability[i])
        item["decision"] = str(decisions[i])
        item["reasons"] = [{"feature": f, "contribution": c, "text": t} for f, c, t in reasons[i]]
        item["warnings"] = scored.parsed.warnings[i]
        if explain:
            item["raw_score"] = float(raw[i])
            item["base_value"] = float(result.base_value)
            item["contributions"] = dict(zip(names, values[i].tolist(), strict=True))
        items.append(item)
    return items


def decision_batch(scored: Scored, reasons: Reasons, request_id: str) -> DecisionBatch:
    """The decision-log batch of a scored request."""
    identity = scored.loaded.identity
    scores = scored.result.scores
    return DecisionBatch(
        time=datetime.now(UTC),
        request_id=request_id,
        run_id=identity.run_id,
        threshold=float(identity.threshold),
        applicant_ids=list(scored.parsed.ids),
        probabilities=np.asarray(scores["probability"], dtype="float64").tolist(),
        decisions=[str(d) for d in scores["decision"]],
        reasons=[[name for name, _, _ in row] for row in reasons],
        warnings=scored.parsed.warnings,
        features=scored.parsed.features,
    )
