"""Gather the evidence pack of one run from the store: every number from the core functions.

Nothing here computes a metric: AUC, KS and bands come from core.evaluation.curves, intervals
from core.monitoring.accuracy, the verdict from core.runs.stability, DeLong and the swap set from
core.evaluation.run_comparison, the profile from core.monitoring, the record from
core.promotion. What a run cannot supply becomes a `Missing` note with the way to supply it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from mlflow.tracking import MlflowClient

from core.errors import GovernanceError
from core.evaluation import curves
from core.evaluation.eval_data import EvaluationData, from_validation_set, score_frame
from core.evaluation.explain_global import DEFAULT_SHAP_SAMPLE, feature_importance, global_shap
from core.evaluation.monotonicity import check_monotonicity, declared_constraints
from core.evaluation.run_comparison import delong_test, swap_set
from core.evaluation.threshold_policy import ScoreTable, build_score_table, policy_at
from core.monitoring.accuracy import with_intervals
from core.monitoring.alerts import ALERT_LEVELS
from core.monitoring.profiles import frozen_profile
from core.monitoring.reference import CategoricalProfile, ReferenceProfile
from core.monitoring.run_profile import profile_from_validation
from core.record import ledger
from core.record.manifest import PromotionManifest, ledger_path, read_manifest
from core.record.verification import VerificationReport
from core.report import pack as p
from core.report.limitations import detect_limitations
from core.report.model_card import ModelCard, load_model_card
from core.report.reproduce import reproducibility
from core.runs.stability import StabilityRule, stability_verdict
from core.scoring.loaded_model import LoadedModel, output_label
from core.scoring.prepare import model_categories
from core.settings import Settings
from core.store.access import load_model_unchecked, load_validation_set
from core.store.run_record import RunRecord, load_record_model

# swap_set's groups in its order, named for base = the champion and challenger = this run.
SWAP_GROUPS = (
    "approved by both",
    "swap-in: this run approves, the champion declines",
    "swap-out: the champion approves, this run declines",
    "declined by both",
)


def attach_hint(run_id: str) -> str:
    """The command that gives a run a validation set."""
    return (
        f"`python -m core attach-validation --run-id {run_id} --data holdout.csv --target "
        "default` (or Model diagnostics › Attach to this run)"
    )


@dataclass
class _Collector:
    """Missing notes gathered while sections are built."""

    notes: list[p.Missing]

    def add(self, section: str, what: str, how: str) -> None:
        self.notes.append(p.Missing(section, what, how))


def _threshold(
    record: RunRecord, threshold: float | None, promoted: PromotionManifest | None, default: float
) -> tuple[float, str]:
    """The threshold the policy is shown at, and where it comes from."""
    if threshold is not None:
        return float(threshold), "selected"
    if promoted is not None:
        return promoted.threshold, f"the promotion manifest of run {record.run_name}"
    return float(default), "DECISION_THRESHOLD (the run was never promoted)"


def _promotions_of(settings: Settings, run_id: str) -> tuple[ledger.LedgerEntry, ...]:
    """The ledger entries that installed this run, oldest first."""
    chain = ledger.read_chain(ledger_path(settings.promotion_manifest))
    return tuple(e for e in chain.entries if e.manifest is not None and e.manifest.run_id == run_id)


def _entries_frame(entries: tuple[ledger.LedgerEntry, ...]) -> pd.DataFrame:
    """Ledger entries with their full hashes."""
    return pd.DataFrame(
        [
            {
                "entry": e.seq,
                "when": e.event.at if e.event else e.manifest.promoted_at,
                "action": e.kind,
                "who": e.event.by if e.event else e.manifest.promoted_by,
                "threshold": e.manifest.threshold,
                "evidence_pack_sha256": e.manifest.evidence_pack_sha256 or "",
                "hash": e.hash,
                "prev_hash": e.prev_hash,
            }
            for e in entries
        ],
        columns=[
            "entry", "when", "action", "who", "threshold", "evidence_pack_sha256", "hash",
            "prev_hash",
        ],
    )  # fmt: skip


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


def _outcomes(table: ScoreTable, threshold: float, source: str) -> p.OutcomesSection:
    """Discrimination with intervals, calibration, deciles and the policy at the threshold."""
    evaluation = curves.evaluate(table)
    return p.OutcomesSection(
        evaluation=evaluation,
        intervals=with_intervals(evaluation.auc, evaluation.ks, table.n_bads, table.n_goods),
        calibration=curves.calibration(table),
        bands=curves.score_bands(table),
        policy=policy_at(table, threshold),
        threshold_source=source,
    )


def _benchmark(
    settings: Settings,
    run_id: str,
    data: EvaluationData,
    threshold: float,
    champion: PromotionManifest | None,
    missing: _Collector,
) -> p.BenchmarkSection | None:
    """This run against the champion on the same rows, or None with a note saying why."""
    if champion is None:
        missing.add(
            "benchmarking",
            "No champion: nothing is promoted yet, so there is nothing to benchmark against.",
            "Promote a run (`python -m core promote`); its packs then compare with it.",
        )
        return None
    if champion.run_id == run_id:
        missing.add(
            "benchmarking",
            "This run is the champion: it is benchmarked when a challenger's pack is made.",
            "Make the pack of a challenger run to compare it with this one.",
        )
        return None
    model = load_model_unchecked(settings.tracking_uri, champion.run_id)
    scores, _, _ = score_frame(model, data.features)
    return p.BenchmarkSection(
        champion_run_id=champion.run_id,
        champion_name=champion.run_name,
        champion_threshold=champion.threshold,
        champion_evaluation=curves.evaluate(build_score_table(data.labels, scores)),
        comparison=delong_test(data.labels, scores, data.scores),
        swap=swap_set(data.labels, scores, data.scores, champion.threshold, threshold).assign(
            group=SWAP_GROUPS
        ),
    )


def _profile(
    settings: Settings,
    promoted: PromotionManifest | None,
    model: LoadedModel | None,
    validation: pd.DataFrame | None,
    run_id: str,
    threshold: float,
) -> tuple[ReferenceProfile | None, bool]:
    """The frozen profile of the run's promotion, else one built from its validation set."""
    if promoted is not None and promoted.reference_profile_sha256:
        found = frozen_profile(settings, promoted)
        if found is not None:
            return found, True
    if model is None or validation is None:
        return None, False
    return profile_from_validation(model, validation, run_id, threshold), False


def _governance(
    entries: tuple[ledger.LedgerEntry, ...],
    pending: PromotionManifest | None,
    verification: VerificationReport | None,
) -> p.GovernanceSection:
    """Manifest, gate results, ledger entries and the verification of the record as it is."""
    manifest = pending or (entries[-1].manifest if entries else None)
    note = ""
    if pending is not None:
        note = (
            "This pack is frozen with the promotion shown: its sha256 is recorded in that "
            "promotion's ledger entry, written after the pack, so that entry is not listed here. "
            "`python -m core promote --verify` re-hashes the pack."
        )
    elif manifest is None:
        note = "This run was never promoted: no gate results or ledger entries are recorded."
    return p.GovernanceSection(
        manifest=manifest,
        gates=tuple(manifest.gate_results) if manifest else (),
        entries=_entries_frame(entries),
        verification=verification,
        note=note,
    )


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
    """The evidence pack of a run; `pending` is the promotion it is being frozen with, and
    `verification` the record's verification as the caller found it (None: not verified)."""
    missing = _Collector([])
    run_id = record.run_id
    try:
        card = load_model_card(settings.model_card_file)
    except GovernanceError as exc:
        card = ModelCard()
        missing.add("purpose", exc.message, exc.fix or "")
    if card.is_empty and not missing.notes:
        missing.add(
            "purpose",
            "No model card: owner, intended use and out-of-scope uses are not written down.",
            f"Fill in {settings.model_card_file} (or point MODEL_CARD_FILE at your card).",
        )
    entries = _promotions_of(settings, run_id)
    promoted = pending or (entries[-1].manifest if entries else None)
    try:
        champion = read_manifest(settings.promotion_manifest)
    except GovernanceError:
        champion = None
    cut, threshold_source = _threshold(record, threshold, promoted, settings.decision_threshold)

    model = None
    if record.has_model:
        try:
            model = load_record_model(settings.tracking_uri, record)
        except GovernanceError as exc:
            missing.add(
                "soundness", f"The run's model cannot be loaded: {exc.message}", exc.fix or ""
            )
    else:
        missing.add(
            "soundness",
            "No model logged: hyper-parameters only; no importance, SHAP or monotonicity check.",
            "Log the model with mlflow.lightgbm.log_model(model, name='model').",
        )
    validation, data = None, None
    if record.has_validation_set:
        try:
            validation = load_validation_set(client, run_id)
            data = from_validation_set(validation, run_id)
        except GovernanceError as exc:
            missing.add("data", exc.message, attach_hint(run_id))
    else:
        for section, lacks in (
            ("data", "rows, bad rate and missing rates"),
            ("outcomes", "ROC, KS, Gini, calibration, score bands and the threshold policy"),
            ("benchmarking", "the DeLong test and swap set against the champion"),
            ("monitoring", "the reference profile production is compared with"),
        ):
            missing.add(
                section, f"No validation set logged: {lacks} need one.", attach_hint(run_id)
            )

    if profile is None:
        try:
            profile, frozen = _profile(settings, promoted, model, validation, run_id, cut)
        except GovernanceError as exc:
            profile, frozen = None, False
            missing.add("monitoring", exc.message, exc.fix or "Promote the run again.")
    else:
        frozen = True
    data_section = p.DataSection(
        data_version=record.data_version,
        source=data.source if data else None,
        rows=data.n if data else None,
        bads=data.n_bads if data else None,
        n_train=int(record.metrics["n_train"]) if "n_train" in record.metrics else None,
        features=_features(model, data, profile),
    )
    if record.data_version is None:
        missing.add(
            "data",
            "No data_version: the training data is not identified.",
            "Log a data_version tag or param (python -m core train logs a content hash).",
        )

    constraints = (
        declared_constraints(record.params.get("monotone_constraints"), model.feature_names)
        if model is not None
        else {}
    )
    soundness = p.SoundnessSection(params=record.params, constraints=constraints)
    if model is not None:
        soundness = p.SoundnessSection(
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
        if data is None:
            missing.add(
                "soundness",
                "No validation set: the SHAP summary and the monotonicity check need rows.",
                attach_hint(run_id),
            )
        if not constraints:
            missing.add(
                "soundness",
                "No monotone constraints declared (params.monotone_constraints).",
                "Train with `python -m core train --monotone credit_score:-1,...` to declare "
                "the directions the business expects.",
            )

    outcomes, benchmark = None, None
    if data is not None:
        table = build_score_table(data.labels, data.scores)
        if table.has_both_classes:
            outcomes = _outcomes(table, cut, threshold_source)
            try:
                benchmark = _benchmark(settings, run_id, data, cut, champion, missing)
            except GovernanceError as exc:
                missing.add("benchmarking", exc.message, exc.fix or "")
        else:
            missing.add(
                "outcomes",
                "The validation set holds one class only: AUC, KS and Gini are undefined.",
                attach_hint(run_id) + " with --replace, using a file with goods and bads",
            )

    stability = None
    row = record.stability_row()
    if row is None:
        missing.add(
            "outcomes",
            "No cross-validation folds logged: CV stability cannot be judged.",
            "Log cv_auc per fold (step = fold) with each fold's rows and bads (params "
            "cv_fold_rows, cv_fold_bads), or train with `python -m core train`.",
        )
    else:
        rule = StabilityRule()
        stability = p.StabilitySection(stability_verdict(row, rule), rule.describe(), record.folds)

    monitoring = p.MonitoringSection(profile, frozen, ALERT_LEVELS) if profile is not None else None
    governance = _governance(entries, pending, verification)
    repro = reproducibility(record, promoted)
    if repro.command is None:
        missing.add("reproducibility", repro.command_note, "Train with `python -m core train`.")
    parts = {
        "data": data_section,
        "soundness": soundness,
        "stability": stability,
        "unseen": (data.unseen_categories if data else {}) | _unseen(model, profile),
        "missing": missing.notes,
    }
    return p.EvidencePack(
        run_id=run_id,
        run_name=record.run_name,
        experiment_name=record.experiment_name,
        status=record.status,
        generated_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        threshold=cut,
        card=card,
        data=data_section,
        soundness=soundness,
        outcomes=outcomes,
        stability=stability,
        benchmark=benchmark,
        monitoring=monitoring,
        limitations=(*detect_limitations(**parts), *card.limitations),
        governance=governance,
        reproducibility=repro,
        missing=tuple(missing.notes),
        score_label=output_label(model),
    )
