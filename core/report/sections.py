"""Build a run's evidence pack, one builder per section; every number from a core function."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from mlflow.tracking import MlflowClient

from core.errors import GovernanceError
from core.evaluation import curves
from core.evaluation.eval_data import EvaluationData
from core.evaluation.explain_global import DEFAULT_SHAP_SAMPLE, feature_importance, global_shap
from core.evaluation.monotonicity import check_monotonicity, declared_constraints
from core.evaluation.threshold_policy import build_score_table, policy_at
from core.monitoring.accuracy import with_intervals
from core.monitoring.alerts import ALERT_LEVELS
from core.monitoring.profiles import frozen_profile
from core.monitoring.reference import CategoricalProfile, ReferenceProfile
from core.monitoring.run_profile import profile_from_validation
from core.record import ledger
from core.record.manifest import PromotionManifest
from core.record.verification import VerificationReport
from core.report import pack as p
from core.report.benchmark import benchmarking
from core.report.fairness import fair_lending
from core.report.ledger_record import ledger_record
from core.report.limitations import detect_limitations
from core.report.model_card import NO_CARD, ModelCard, load_model_card, run_model_card
from core.report.reproduce import reproducibility
from core.report.run_inputs import MissingNotes, RunInputs, attach_hint, gather
from core.runs.overfit import overfit_verdict
from core.runs.stability import StabilityRule, stability_verdict
from core.scoring.loaded_model import LoadedModel, output_label
from core.scoring.prepare import model_categories
from core.settings import DEFAULT_MODEL_CARD_FILE, Settings
from core.store.run_record import RunRecord
from core.store.training_rows import load_training_rows


def _entry_threshold(entry: ledger.LedgerEntry) -> float | None:
    """The threshold an entry installs or requests (None for approvals, acknowledgements)."""
    if entry.manifest is not None:
        return entry.manifest.threshold
    request = entry.event.request if entry.event else None
    return request.threshold if request is not None else None


def _entries_frame(entries: tuple[ledger.LedgerEntry, ...]) -> pd.DataFrame:
    """Ledger entries with who, why and their full hashes."""
    return pd.DataFrame(
        [
            {
                "entry": e.seq,
                "when": e.event.at if e.event else e.manifest.promoted_at,
                "action": e.kind,
                "who": e.event.signoff.label if e.event else e.manifest.promoted_by,
                "reason": e.event.reason if e.event else e.manifest.reason,
                "threshold": _entry_threshold(e),
                "hash": e.hash,
            }
            for e in entries
        ],
        columns=["entry", "when", "action", "who", "reason", "threshold", "hash"],
    )


def _features(
    model: LoadedModel | None, data: EvaluationData | None, profile: ReferenceProfile | None
) -> pd.DataFrame:
    """Feature, type and missing rate (from the reference profile) of the model's inputs."""
    if model is not None:
        names = model.feature_names
        categorical = set(model_categories(model))
    elif data is not None:
        names = list(data.features.columns)
        categorical = {c for c in names if not pd.api.types.is_numeric_dtype(data.features[c])}
    else:
        names, categorical = [], set()
    rows = []
    for name in names:
        column = profile.features.get(name) if profile is not None else None
        kind = "categorical" if name in categorical else "numeric"
        if isinstance(column, CategoricalProfile):
            kind = "categorical"
        rows.append(
            {
                "feature": name,
                "type": kind,
                "missing_rate": column.missing_rate if column is not None else float("nan"),
            }
        )
    return pd.DataFrame(rows, columns=["feature", "type", "missing_rate"])


def _unseen(model: LoadedModel | None, profile: ReferenceProfile | None) -> dict[str, list[str]]:
    """Categories in the reference rows that the model never saw in training."""
    if model is None or profile is None:
        return {}
    found = {}
    for name, known in model_categories(model).items():
        column = profile.features.get(name)
        if isinstance(column, CategoricalProfile):
            seen = {str(v) for v in known}
            extra = [c for c in column.categories if c not in seen]
            if extra:
                found[name] = extra
    return found


def monotone_hint(model: LoadedModel) -> str:
    """How to declare monotone directions, naming this model's own numeric features."""
    categorical = set(model_categories(model))
    numeric = [f for f in model.feature_names if f not in categorical][:2]
    if not numeric:
        return "This model has no numeric feature to constrain."
    example = ",".join(f"{name}:1" for name in numeric)
    return (
        f"Retrain with `python -m core train --monotone {example}` (1: risk rises with the "
        "value, -1: falls), one direction per feature, as the business expects."
    )


def _purpose(
    settings: Settings, client: MlflowClient, record: RunRecord, missing: MissingNotes
) -> ModelCard:
    """1. The run's own model card, else a card the settings point at; never the demo's card
    for a run that was not trained under it. A note when none was written or it is empty."""
    try:
        card = run_model_card(client, record.run_id)
        if card is None and settings.model_card_file != DEFAULT_MODEL_CARD_FILE:
            card = load_model_card(settings.model_card_file)
    except GovernanceError as exc:
        missing.add("purpose", exc.message, exc.fix or "")
        return ModelCard()
    if card is None:
        missing.add(
            "purpose",
            NO_CARD,
            "Train with `python -m core train --model-card CARD.toml` (see "
            "core/config/model_card.toml), or set MODEL_CARD_FILE to the card of this model.",
        )
        return ModelCard()
    if card.is_empty:
        missing.add(
            "purpose",
            "The model card is empty: owner, intended use and out-of-scope uses are not "
            "written down.",
            f"Fill in {card.source or settings.model_card_file}.",
        )
    return card


def _data(run: RunInputs, profile: ReferenceProfile | None, missing: MissingNotes) -> p.DataSection:
    """2. The validation rows, training rows, data version and the model's features."""
    record, data = run.record, run.data
    if record.data_version is None:
        missing.add(
            "data",
            "No data_version: the training data is not identified.",
            "Log a data_version tag or param (python -m core train logs a content hash).",
        )
    return p.DataSection(
        data_version=record.data_version,
        source=data.source if data else None,
        rows=data.n if data else None,
        bads=data.n_bads if data else None,
        n_train=int(record.metrics["n_train"]) if "n_train" in record.metrics else None,
        features=_features(run.model, data, profile),
    )


def _soundness(run: RunInputs, missing: MissingNotes) -> p.SoundnessSection:
    """3. Hyper-parameters and, with a model, constraints and their check, importance, SHAP."""
    record, model, data = run.record, run.model, run.data
    if model is None:
        return p.SoundnessSection(params=record.params, constraints={})
    constraints = declared_constraints(
        record.params.get("monotone_constraints"), model.feature_names
    )
    if data is None:
        missing.add(
            "soundness",
            "No validation set: the SHAP summary and the monotonicity check need rows.",
            attach_hint(record.run_id),
        )
    if not constraints:
        missing.add(
            "soundness",
            "No monotone constraints declared (params.monotone_constraints).",
            monotone_hint(model),
        )
    return p.SoundnessSection(
        params=record.params,
        constraints=constraints,
        importance=feature_importance(model, "gain"),
        shap=global_shap(model, data.features, DEFAULT_SHAP_SAMPLE) if data else None,
        monotonicity=(
            check_monotonicity(model, data.features, constraints)
            if data is not None and constraints
            else None
        ),
    )


def _outcomes(run: RunInputs, missing: MissingNotes) -> p.OutcomesSection | None:
    """4. Discrimination with intervals, calibration, deciles and the policy at the threshold."""
    if run.data is None:
        return None
    table = build_score_table(run.data.labels, run.data.scores)
    if not table.has_both_classes:
        missing.add(
            "outcomes",
            "The validation set holds one class only: AUC, KS and Gini are undefined.",
            attach_hint(run.record.run_id) + " with --replace, using a file with goods and bads",
        )
        return None
    evaluation = curves.evaluate(table)
    return p.OutcomesSection(
        evaluation=evaluation,
        intervals=with_intervals(evaluation.auc, evaluation.ks, table.n_bads, table.n_goods),
        calibration=curves.calibration(table),
        bands=curves.score_bands(table),
        policy=policy_at(table, run.threshold),
        threshold_source=run.threshold_source,
    )


def _stability(record: RunRecord, missing: MissingNotes) -> p.StabilitySection | None:
    """4, continued. The noise-aware verdict on the CV folds, or a note that none are logged."""
    row = record.stability_row()
    if row is None:
        missing.add(
            "outcomes",
            "No cross-validation folds logged: CV stability cannot be judged.",
            "Log cv_auc per fold (step = fold) with each fold's rows and bads (params "
            "cv_fold_rows, cv_fold_bads), or train with `python -m core train`.",
        )
        return None
    rule = StabilityRule()
    overfit = overfit_verdict(record.metrics.get("train_auc"), record.metrics.get("cv_auc_mean"))
    return p.StabilitySection(stability_verdict(row, rule), rule.describe(), record.folds, overfit)


def _reference_profile(run: RunInputs) -> tuple[ReferenceProfile | None, bool]:
    """The frozen profile of the run's promotion, else one built from its validation set."""
    promoted = run.promoted
    if promoted is not None and promoted.reference_profile_sha256:
        found = frozen_profile(run.settings, promoted)
        if found is not None:
            return found, True
    if run.model is None or run.validation is None:
        return None, False
    training = load_training_rows(run.client, run.record.run_id) if run.client else None
    profile = profile_from_validation(
        run.model, run.validation, run.record.run_id, run.threshold, training
    )
    return profile, False


def _monitoring(
    run: RunInputs, profile: ReferenceProfile | None, missing: MissingNotes
) -> p.MonitoringSection | None:
    """6. The reference profile given (frozen with a promotion), else the run's own."""
    frozen = True
    if profile is None:
        try:
            profile, frozen = _reference_profile(run)
        except GovernanceError as exc:
            profile, frozen = None, False
            missing.add("monitoring", exc.message, exc.fix or "Promote the run again.")
    return p.MonitoringSection(profile, frozen, ALERT_LEVELS) if profile is not None else None


def _governance(
    run: RunInputs, pending: PromotionManifest | None, verification: VerificationReport | None
) -> p.GovernanceSection:
    """The promotion that installed the run (not a later rollback's copy), gate results, every
    ledger entry naming the run, and the verification of the record as it is."""
    found = ledger_record(run.chain, run.record.run_id, pending)
    manifest = found.manifest
    note = ""
    if pending is not None:
        note = (
            "This pack is frozen with the promotion shown: its sha256 is recorded in that "
            "promotion's ledger entry, written after the pack, so that entry is not listed here. "
            "`python -m core promote --verify` re-hashes the pack."
        )
    elif manifest is None:
        note = "This run was never promoted: no gate results or promotion entry are recorded."
    return p.GovernanceSection(
        manifest=manifest,
        gates=tuple(manifest.gate_results) if manifest else (),
        entries=_entries_frame(found.entries),
        verification=verification,
        note=note,
        lines=found.lines,
        installed_hash=found.installed_hash,
    )


def _reproducibility(run: RunInputs, missing: MissingNotes) -> p.ReproducibilitySection:
    """9. Code and package versions, seed, and the command that reproduces val_auc."""
    found = reproducibility(run.record, run.promoted)
    if found.command is None:
        missing.add("reproducibility", found.command_note, "Train with `python -m core train`.")
    return found


def build_pack(
    settings: Settings,
    client: MlflowClient,
    record: RunRecord,
    threshold: float | None = None,
    *,
    pending: PromotionManifest | None = None,
    profile: ReferenceProfile | None = None,
    verification: VerificationReport | None = None,
) -> p.EvidencePack:
    """The evidence pack of a run; `pending` is the promotion it is frozen with, `profile` its
    reference profile, `verification` the record's verification as the caller found it (None:
    not verified). Sections are built in this order so that missing notes keep theirs."""
    missing = MissingNotes()
    card = _purpose(settings, client, record, missing)
    run = gather(settings, client, record, threshold, pending, missing)
    monitoring = _monitoring(run, profile, missing)
    profile = monitoring.profile if monitoring is not None else None
    data = _data(run, profile, missing)
    soundness = _soundness(run, missing)
    outcomes = _outcomes(run, missing)
    benchmark = benchmarking(run, outcomes, missing)
    stability = _stability(record, missing)
    governance = _governance(run, pending, verification)
    repro = _reproducibility(run, missing)
    unseen = (run.data.unseen_categories if run.data else {}) | _unseen(run.model, profile)
    return p.EvidencePack(
        run_id=record.run_id,
        run_name=record.run_name,
        experiment_name=record.experiment_name,
        status=record.status,
        generated_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        threshold=run.threshold,
        card=card,
        data=data,
        soundness=soundness,
        outcomes=outcomes,
        stability=stability,
        benchmark=benchmark,
        monitoring=monitoring,
        fairness=fair_lending(run, missing),
        limitations=(
            *detect_limitations(data, soundness, stability, unseen, missing.notes),
            *card.limitations,
        ),
        governance=governance,
        reproducibility=repro,
        missing=tuple(missing.notes),
        score_label=output_label(run.model),
    )
