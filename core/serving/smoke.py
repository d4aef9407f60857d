"""The promotion's service smoke test: serve an export over real HTTP and check its answers."""

from __future__ import annotations

import json
import math
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from core.errors import GovernanceError
from core.record.export import verify_export
from core.scoring.cross_check import (
    PROBABILITY_TOLERANCE,
    RAW_SCORE_TOLERANCE,
    reference_probabilities,
)
from core.scoring.loaded_model import LoadedModel
from core.scoring.reason_codes import ReasonCodeBook
from core.scoring.scorer import scorer_for
from core.serving.app import create_app
from core.serving.local_server import serve_in_thread
from core.serving.model_holder import ModelHolder, ModelIdentity, ServedModel
from core.serving.service_state import ServiceState

REQUEST_TIMEOUT_SECONDS = 60.0


@dataclass(frozen=True)
class SmokeOutcome:
    """Whether the served export answered like the run's model, and the evidence."""

    passed: bool
    detail: str


def applicant_records(applicants: pd.DataFrame) -> list[dict[str, object]]:
    """Applicants as JSON objects: exact floats, text categories, null for missing values."""
    records = []
    for row in applicants.to_dict("records"):
        record: dict[str, object] = {}
        for key, value in row.items():
            if isinstance(value, np.generic):
                value = value.item()
            if value is None or (isinstance(value, float) and math.isnan(value)):
                record[str(key)] = None
            elif isinstance(value, bool | int | float | str):
                record[str(key)] = value
            elif pd.isna(value):
                record[str(key)] = None
            else:
                record[str(key)] = str(value)
        records.append(record)
    return records


def _post(url: str, payload: object) -> dict:
    """POST JSON and return the decoded answer (GovernanceError on any HTTP failure)."""
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode("utf-8"),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_SECONDS) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        body = exc.read().decode("utf-8", "replace")[:200]
        raise GovernanceError(f"{url} answered HTTP {exc.code}: {body}") from exc
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise GovernanceError(f"{url} did not answer ({exc})") from exc


def _problems(
    loaded: ServedModel, predicted: dict, explained: dict, expected: np.ndarray
) -> tuple[list[str], float, float]:
    """What disagrees between the answers and the run model; the largest gaps."""
    problems = []
    identity = loaded.identity
    if predicted.get("run_id") != identity.run_id or explained.get("run_id") != identity.run_id:
        problems.append("the answers do not name the promoted run")
    if predicted.get("score_scale") != identity.score_scale:
        problems.append(f"the answer does not name the {identity.score_scale} scale")
    probability = np.array([p["probability_of_default"] for p in predicted["predictions"]])
    explained_p = np.array([p["probability_of_default"] for p in explained["predictions"]])
    prob_gap = float(np.max(np.abs(probability - expected))) if len(expected) else 0.0
    prob_gap = max(prob_gap, float(np.max(np.abs(explained_p - expected))) if len(expected) else 0)
    raw_gap = 0.0
    for item in explained["predictions"]:
        total = sum(item["contributions"].values()) + item["base_value"]
        raw_gap = max(raw_gap, abs(total - item["raw_score"]))
        from_raw = float(loaded.scorer.probability_from_raw(np.array([item["raw_score"]]))[0])
        prob_gap = max(prob_gap, abs(from_raw - item["probability_of_default"]))
    if prob_gap > PROBABILITY_TOLERANCE:
        problems.append(f"probabilities differ from the run model's by up to {prob_gap:.2e}")
    if raw_gap > RAW_SCORE_TOLERANCE:
        problems.append(f"contributions + base value miss the raw score by up to {raw_gap:.2e}")
    return problems, prob_gap, raw_gap


def service_smoke(
    folder: Path,
    model: LoadedModel,
    identity: ModelIdentity,
    reference: LoadedModel,
    applicants: pd.DataFrame,
    source: str,
) -> SmokeOutcome:
    """Serve the export on a free loopback port; /predict and /explain must match the run model."""
    try:
        verify_export(folder, identity.model_sha256)
        scorer = scorer_for(model)
        loaded = ServedModel(identity, model, scorer, ReasonCodeBook(), "smoke test")
        state = ServiceState(ModelHolder(loaded), None, max(len(applicants), 1))
        payload = {"applicants": applicant_records(applicants)}
        with serve_in_thread(create_app(state)) as url:
            predicted = _post(f"{url}/predict", payload)
            explained = _post(f"{url}/explain", payload)
        expected = reference_probabilities(reference, applicants)
    except GovernanceError as exc:
        return SmokeOutcome(False, f"the service failed: {exc}")
    problems, prob_gap, raw_gap = _problems(loaded, predicted, explained, expected)
    if problems:
        return SmokeOutcome(False, "; ".join(problems))
    return SmokeOutcome(
        True,
        f"{len(applicants)} {source} over HTTP (/predict, /explain): "
        f"|Δp| ≤ {prob_gap:.0e}, |Σφ + base − raw| ≤ {raw_gap:.0e}",
    )
