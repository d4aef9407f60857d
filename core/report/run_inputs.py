"""What a pack's sections are built from: the run's model, rows, promotions and threshold."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
from mlflow.tracking import MlflowClient

from core.errors import GovernanceError
from core.evaluation.eval_data import EvaluationData, from_validation_set
from core.record import ledger
from core.record.manifest import PromotionManifest, ledger_path, read_manifest
from core.report import pack as p
from core.scoring.loaded_model import LoadedModel
from core.settings import Settings
from core.store.access import load_validation_set
from core.store.run_record import RunRecord, load_record_model


def attach_hint(run_id: str) -> str:
    """The command that gives a run a validation set."""
    return (
        f"`python -m core attach-validation --run-id {run_id} --data holdout.csv --target "
        "default` (or Model diagnostics › Attach to this run)"
    )


@dataclass
class MissingNotes:
    """Missing notes gathered while sections are built, in the order they are found."""

    notes: list[p.Missing] = field(default_factory=list)

    def add(self, section: str, what: str, how: str) -> None:
        """Note that a section lacks `what`, and `how` to supply it."""
        self.notes.append(p.Missing(section, what, how))


@dataclass(frozen=True)
class RunInputs:
    """The run, its model and validation rows (None when absent), promotions and threshold."""

    settings: Settings
    record: RunRecord
    model: LoadedModel | None
    validation: pd.DataFrame | None
    data: EvaluationData | None
    entries: tuple[ledger.LedgerEntry, ...]  # the entries that installed this run
    promoted: PromotionManifest | None  # the pending promotion, else this run's last one
    champion: PromotionManifest | None
    threshold: float
    threshold_source: str
    chain: tuple[ledger.LedgerEntry, ...] = ()
    client: MlflowClient | None = None


def _threshold(
    record: RunRecord, threshold: float | None, promoted: PromotionManifest | None, default: float
) -> tuple[float, str]:
    """The threshold the policy is shown at, and where it comes from."""
    if threshold is not None:
        return float(threshold), "selected"
    if promoted is not None:
        return promoted.threshold, f"the promotion manifest of run {record.run_name}"
    return float(default), "DECISION_THRESHOLD (the run was never promoted)"


def _promotions_of(
    chain: tuple[ledger.LedgerEntry, ...], run_id: str
) -> tuple[ledger.LedgerEntry, ...]:
    """The ledger entries that installed this run, oldest first."""
    return tuple(e for e in chain if e.manifest is not None and e.manifest.run_id == run_id)


def _champion(settings: Settings) -> PromotionManifest | None:
    """The promoted run's manifest; None when nothing (readable) is promoted."""
    try:
        return read_manifest(settings.promotion_manifest)
    except GovernanceError:
        return None


def _model(settings: Settings, record: RunRecord, missing: MissingNotes) -> LoadedModel | None:
    """The run's model, or None with a soundness note saying why."""
    if not record.has_model:
        missing.add(
            "soundness",
            "No model logged: hyper-parameters only; no importance, SHAP or monotonicity check.",
            "Log the model with mlflow.lightgbm.log_model(model, name='model').",
        )
        return None
    try:
        return load_record_model(settings.tracking_uri, record)
    except GovernanceError as exc:
        missing.add("soundness", f"The run's model cannot be loaded: {exc.message}", exc.fix or "")
        return None


def _validation(
    client: MlflowClient, record: RunRecord, missing: MissingNotes
) -> tuple[pd.DataFrame | None, EvaluationData | None]:
    """The run's validation rows and their scores, or notes on every section that needs them."""
    run_id = record.run_id
    if not record.has_validation_set:
        for section, lacks in (
            ("data", "rows, bad rate and missing rates"),
            ("outcomes", "ROC, KS, Gini, calibration, score bands and the threshold policy"),
            ("benchmarking", "the DeLong test and swap set against the champion"),
            ("monitoring", "the reference profile production is compared with"),
        ):
            missing.add(
                section, f"No validation set logged: {lacks} need one.", attach_hint(run_id)
            )
        return None, None
    validation = None
    try:
        validation = load_validation_set(client, run_id)
        return validation, from_validation_set(validation, run_id)
    except GovernanceError as exc:  # rows that were read still feed the reference profile
        missing.add("data", exc.message, attach_hint(run_id))
        return validation, None


def gather(
    settings: Settings,
    client: MlflowClient,
    record: RunRecord,
    threshold: float | None,
    pending: PromotionManifest | None,
    missing: MissingNotes,
) -> RunInputs:
    """Read what every section needs once; what cannot be read becomes a missing note."""
    chain = ledger.read_chain(ledger_path(settings.promotion_manifest)).entries
    entries = _promotions_of(chain, record.run_id)
    promoted = pending or (entries[-1].manifest if entries else None)
    champion = _champion(settings)
    cut, source = _threshold(record, threshold, promoted, settings.decision_threshold)
    model = _model(settings, record, missing)
    validation, data = _validation(client, record, missing)
    return RunInputs(
        settings=settings,
        record=record,
        model=model,
        validation=validation,
        data=data,
        entries=entries,
        promoted=promoted,
        champion=champion,
        threshold=cut,
        threshold_source=source,
        chain=chain,
        client=client,
    )
