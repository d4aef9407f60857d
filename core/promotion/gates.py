"""The promotion gates: each check returns a GateResult saying whether it passed and why."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
from mlflow.entities import Run

from core.errors import DataValidationError, GovernanceError, ModelLoadError
from core.record.export import load_export
from core.record.manifest import GateResult
from core.run_schema import ID_COLUMN, LABEL_COLUMN, SCORE_COLUMN
from core.runs.stability import NO_CV, STABLE, StabilityRule, stability_verdict
from core.scoring.applicants import typical_applicant
from core.scoring.cross_check import (
    PROBABILITY_TOLERANCE,
    RAW_SCORE_TOLERANCE,
    reference_probabilities,
)
from core.scoring.loaded_model import LoadedModel
from core.scoring.prepare import model_categories
from core.scoring.scorer import scorer_for
from core.serving.model_holder import ModelIdentity
from core.serving.smoke import service_smoke
from core.settings import DEFAULT_PROMOTION_AUC_TOLERANCE
from core.threshold import InvalidThresholdError, Threshold

DEFAULT_AUC_TOLERANCE = DEFAULT_PROMOTION_AUC_TOLERANCE
SMOKE_SAMPLE_SIZE = 50

RUN_FINISHED = "run finished"
MODEL_LOADS = "model loads"
THRESHOLD_VALID = "threshold valid"
AUC_VS_CHAMPION = "AUC vs champion"
CV_STABLE = "CV stable"
SMOKE_TEST = "smoke test"
SERVICE_SMOKE_TEST = "service smoke test"
EXPORT_VERIFIED = "export verified"
NO_CV_DETAIL = (
    "no CV logged: stability is unknown (train with --cv-folds 2 or more, "
    "or force with a written reason)"
)


class PromotionInputError(GovernanceError):
    """A promotion request is incomplete or malformed (threshold, name, reason)."""


def gate_run_finished(run: Run) -> GateResult:
    """The run ended with status FINISHED."""
    status = run.info.status
    return GateResult(
        name=RUN_FINISHED,
        passed=status == "FINISHED",
        detail=f"status {status}" + ("" if status == "FINISHED" else ": only finished runs ship"),
    )


def gate_threshold(threshold: object) -> GateResult:
    """The threshold is a probability strictly inside (0, 1) (validated by core.threshold)."""
    try:
        value = Threshold(threshold)
    except InvalidThresholdError as exc:
        return GateResult(name=THRESHOLD_VALID, passed=False, detail=exc.message)
    return GateResult(name=THRESHOLD_VALID, passed=True, detail=f"{value:g} is inside (0, 1)")


def forceable_gate(name: str, passed: bool, detail: str, force_reason: str | None) -> GateResult:
    """A gate result that a written force reason overrides when it failed."""
    if not passed and force_reason:
        return GateResult(
            name=name,
            passed=False,
            overridden=True,
            detail=f"{detail}; overridden with force: {force_reason}",
        )
    return GateResult(name=name, passed=passed, detail=detail)


def gate_cv_stable(
    cv: Mapping[str, object] | None, rule: StabilityRule, force_reason: str | None = None
) -> GateResult:
    """CV is stable by the Runs page's rule; a run that logged no CV fails.

    `cv` is a runs-table-shaped row (see RunRecord.stability_row); an unstable verdict, or no CV
    at all, is overridden by a force reason, as the AUC gate is (the reason is recorded).
    """
    verdict = stability_verdict(cv or {}, rule)
    if verdict.flag == NO_CV:
        return forceable_gate(CV_STABLE, False, NO_CV_DETAIL, force_reason)
    reason = verdict.reason.rstrip(".")
    detail = f"CV AUC {verdict.mean:.4f} ± {verdict.observed_std:.4f}: {verdict.flag}, {reason}"
    return forceable_gate(CV_STABLE, verdict.flag == STABLE, detail, force_reason)


def gate_model_loads(folder: Path) -> tuple[LoadedModel | None, GateResult]:
    """Load the exported folder with the lightgbm flavour; the gate says whether it worked."""
    try:
        model = load_export(folder)
    except ModelLoadError as exc:
        return None, GateResult(
            name=MODEL_LOADS, passed=False, detail=f"load failed: {exc.message}"
        )
    return model, GateResult(
        name=MODEL_LOADS,
        passed=True,
        detail=f"LGBMClassifier with {len(model.feature_names)} features from the export",
    )


def failed_gate(name: str, error: GovernanceError) -> GateResult:
    """A gate that could not run because of a core error."""
    return GateResult(name=name, passed=False, detail=error.message)


def not_run(name: str, because: str) -> GateResult:
    """A gate skipped because an earlier gate failed."""
    return GateResult(name=name, passed=False, detail=f"not run: {because}")


def smoke_applicants(
    model: LoadedModel, validation: pd.DataFrame | None, n: int = SMOKE_SAMPLE_SIZE
) -> tuple[pd.DataFrame, str]:
    """A fixed applicant set: the first n validation rows by row_id, else the model's ranges."""
    if validation is not None and len(validation):
        frame = validation.sort_values(ID_COLUMN) if ID_COLUMN in validation else validation
        frame = frame.drop(columns=[c for c in (LABEL_COLUMN, SCORE_COLUMN) if c in frame])
        head = frame.head(n).reset_index(drop=True)
        return head, f"validation applicants (first by {ID_COLUMN})"
    return _synthetic_applicants(model), "applicants built from the model's feature ranges"


def _synthetic_applicants(model: LoadedModel, n: int = 11) -> pd.DataFrame:
    """Applicants spread over each numeric feature's trained range and each category."""
    categories = model_categories(model)
    text = model.classifier.booster_.model_to_string(num_iteration=0)
    line = next(ln for ln in text.splitlines() if ln.startswith("feature_infos="))
    infos = line.removeprefix("feature_infos=").split(" ")
    columns: dict[str, list[object]] = {}
    for name, info in zip(model.feature_names, infos, strict=True):
        if name in categories:
            cats = categories[name] or [None]
            columns[name] = [cats[i % len(cats)] for i in range(n)]
        elif info.startswith("["):
            low, high = (float(v) for v in info.strip("[]").split(":"))
            columns[name] = list(np.linspace(low, high, n))
        else:
            columns[name] = [0.0] * n
    return pd.DataFrame(columns)


def gate_smoke(
    exported: LoadedModel,
    reference: LoadedModel,
    applicants: pd.DataFrame,
    source: str,
    threshold: float,
) -> GateResult:
    """Score applicants with the exported model through the scoring core and cross-check.

    Probabilities must equal the run model's predict_proba, and SHAP contributions plus the
    base value must equal the raw score.
    """
    try:
        result = scorer_for(exported).score(applicants, threshold)
        expected = reference_probabilities(reference, applicants)
    except (DataValidationError, ValueError, lgb.basic.LightGBMError) as exc:
        message = exc.message if isinstance(exc, DataValidationError) else str(exc)[:200]
        return GateResult(name=SMOKE_TEST, passed=False, detail=f"scoring failed: {message}")
    probability = result.scores["probability"].to_numpy()
    prob_gap = float(np.max(np.abs(probability - expected))) if len(expected) else 0.0
    raw = exported.classifier.booster_.predict(result.prepared.frame, raw_score=True)
    sums = result.contributions.sum(axis=1).to_numpy() + result.base_value
    raw_gap = float(np.max(np.abs(sums - raw))) if len(raw) else 0.0
    problems = []
    if prob_gap > PROBABILITY_TOLERANCE:
        problems.append(f"probabilities differ from the run model's by up to {prob_gap:.2e}")
    if raw_gap > RAW_SCORE_TOLERANCE:
        problems.append(f"contributions + base value miss the raw score by up to {raw_gap:.2e}")
    declined = int((result.scores["decision"] == "decline").sum())
    summary = (
        f"{len(applicants)} {source}: "
        f"{declined} declined at {threshold:g}; |Δp| ≤ {prob_gap:.0e}, "
        f"|Σφ + base − raw| ≤ {raw_gap:.0e}"
    )
    return GateResult(
        name=SMOKE_TEST,
        passed=not problems,
        detail="; ".join(problems) if problems else summary,
    )


def service_applicants(
    model: LoadedModel, validation: pd.DataFrame | None
) -> tuple[pd.DataFrame, str]:
    """Validation applicants (first by row id), else the model's template applicant."""
    if validation is not None and len(validation):
        return smoke_applicants(model, validation)
    return typical_applicant(scorer_for(model).spec), "template applicant"


def gate_service_smoke(
    folder: Path,
    sha256: str,
    exported: LoadedModel,
    reference: LoadedModel,
    validation: pd.DataFrame | None,
    run: tuple[str, str],
    threshold: float,
) -> GateResult:
    """Serve the export on a free loopback port; /predict and /explain must match the run model.

    `run` is (run_id, run_name). The probabilities must equal the run model's predict_proba and
    the contributions plus the base value must add up to the raw score.
    """
    applicants, source = service_applicants(exported, validation)
    scale = scorer_for(exported).scale
    identity = ModelIdentity.candidate(run[0], run[1], threshold, sha256, scale)
    outcome = service_smoke(folder, exported, identity, reference, applicants, source)
    return GateResult(name=SERVICE_SMOKE_TEST, passed=outcome.passed, detail=outcome.detail)


def approval_rate(scores: pd.Series | np.ndarray, threshold: float) -> float:
    """The share of applicants approved (probability below the threshold)."""
    values = np.asarray(scores, dtype=float)
    values = values[~np.isnan(values)]
    return float((values < threshold).mean()) if len(values) else math.nan
