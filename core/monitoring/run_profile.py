"""Build a run's reference profile from its model and its logged validation set."""

from __future__ import annotations

from mlflow.tracking import MlflowClient

from core.monitoring.reference import ReferenceProfile, build_profile
from core.scoring.prepare import model_categories
from core.store.access import load_model, load_validation_set
from core.training.trainer import LABEL_COLUMN, SCORE_COLUMN


def profile_from_run(
    tracking_uri: str, client: MlflowClient, run_id: str, threshold: float
) -> ReferenceProfile:
    """Profile a run's logged validation set with its model's features and logged scores."""
    model = load_model(tracking_uri, run_id)
    validation = load_validation_set(client, run_id)
    return build_profile(
        validation,
        list(model.feature_name_),
        list(model_categories(model)),
        validation[SCORE_COLUMN].to_numpy(),
        threshold,
        run_id=run_id,
        source=f"validation set of run {run_id}",
        labels=validation[LABEL_COLUMN].to_numpy(),
    )
