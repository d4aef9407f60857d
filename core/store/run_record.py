"""The one run record: everything pages and actions need about a run, fetched once per action.

Gates, export, the registry step and the Promotion page take a `RunRecord` instead of asking
the store again: one `get_run`, one fold read, one experiment lookup per run and action.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd
from mlflow.entities import Run
from mlflow.tracking import MlflowClient

from core.errors import ModelLoadError
from core.run_schema import GOVERNED_TAG, SCORE_SCALE_TAG, VALIDATION_ARTIFACT
from core.runs.stability import stability_row
from core.scoring.calibrator import CALIBRATED_PD, RISK_SCORE
from core.sentence import Sentence
from core.store import folds as fold_lib
from core.store.access import RunInventory, get_run, load_model_unchecked, run_folds
from core.store.runs_table import has_model
from core.store.server_reader import raw_from_entity

if TYPE_CHECKING:  # LightGBM is imported when a model is loaded, not when a record is read
    from core.scoring.loaded_model import LoadedModel

CV_STATISTICS = ("cv_auc_mean", "cv_auc_std", "cv_auc_min", "cv_ks_mean", "cv_ks_std")


def cv_statistics(folds: pd.DataFrame, run: Run) -> dict[str, float] | None:
    """The run's CV statistics from its folds, else from logged summaries, else None."""
    summary = fold_lib.fold_summary(folds)
    run_id = run.info.run_id
    cv: dict[str, float] = {}
    if run_id in summary.index:
        row = summary.loc[run_id]
        cv = {k: float(row[k]) for k in CV_STATISTICS if k in row and pd.notna(row[k])}
    for name in CV_STATISTICS:
        logged = run.data.metrics.get(name)
        if name not in cv and logged is not None and math.isfinite(logged):
            cv[name] = float(logged)
    return cv if "cv_auc_mean" in cv and "cv_auc_std" in cv else None


@dataclass(frozen=True)
class RunRecord:
    """A live run: identity, params, finite metrics, CV folds and statistics, what it carries."""

    run: Run
    experiment_name: str
    folds: pd.DataFrame
    cv: dict[str, float] | None
    metrics: dict[str, float] = field(default_factory=dict)

    @property
    def run_id(self) -> str:
        """The run id."""
        return self.run.info.run_id

    @property
    def run_name(self) -> str:
        """The run's name, or the first eight characters of its id."""
        return self.run.info.run_name or self.run_id[:8]

    @property
    def status(self) -> str:
        """FINISHED, FAILED, RUNNING..."""
        return self.run.info.status

    @property
    def experiment_id(self) -> str:
        """The experiment the run belongs to."""
        return self.run.info.experiment_id

    @property
    def params(self) -> dict[str, str]:
        """The run's params."""
        return dict(self.run.data.params)

    @property
    def data_version(self) -> str | None:
        """The data version tag (or param) the run was trained on."""
        tags, params = self.run.data.tags, self.run.data.params
        return tags.get("data_version") or params.get("data_version")

    @property
    def score_scale(self) -> str:
        """'calibrated_pd' for a run trained with --calibrate, else 'risk_score'."""
        tag = self.run.data.tags.get(SCORE_SCALE_TAG)
        return CALIBRATED_PD if tag == CALIBRATED_PD else RISK_SCORE

    def stability_row(self) -> dict[str, object] | None:
        """The CV statistics, fold count, metrics and params the stability rule reads."""
        if self.cv is None:
            return None
        n_folds = int((self.folds["metric"] == "auc").sum()) if not self.folds.empty else None
        return stability_row(self.cv, self.metrics, self.params, n_folds)

    @property
    def has_model(self) -> bool:
        """True when the run logged a model."""
        return has_model(raw_from_entity(self.run))

    @property
    def has_validation_set(self) -> bool:
        """True when the run logged the governed labelled validation set."""
        tag = self.run.data.tags.get("governance.validation_artifact")
        return tag == VALIDATION_ARTIFACT

    @property
    def inventory(self) -> RunInventory:
        """What the run carries and lacks, with how to supply each missing piece."""
        return RunInventory(
            run_id=self.run_id,
            has_model=self.has_model,
            has_validation_set=self.has_validation_set,
            has_cv=self.cv is not None,
            has_ks="val_ks" in self.metrics,
            is_governed=GOVERNED_TAG in self.run.data.tags,
        )


def fetch_run_record(client: MlflowClient, run_id: str) -> RunRecord:
    """Read a live run once: the run, its experiment's name, folds and CV statistics."""
    run = get_run(client, run_id)
    folds = run_folds(client, run)
    cv = cv_statistics(folds, run)
    metrics = {k: float(v) for k, v in run.data.metrics.items() if math.isfinite(v)}
    metrics.update(cv or {})
    experiment = client.get_experiment(run.info.experiment_id)
    return RunRecord(run, experiment.name, folds, cv, metrics)


def load_record_model(tracking_uri: str, record: RunRecord) -> LoadedModel:
    """The record's LightGBM classifier (the record already proved the run exists)."""
    if not record.has_model:
        raise ModelLoadError(
            Sentence("Run '{0}' logged no model.", record.run_name),
            fix="Pick a run with a model, or log one with "
            "mlflow.lightgbm.log_model(model, name='model').",
        )
    return load_model_unchecked(tracking_uri, record.run_id)
