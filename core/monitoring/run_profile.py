"""Build a run's reference profile from its model and its logged validation set."""

from __future__ import annotations

import pandas as pd
from mlflow.tracking import MlflowClient

from core.data.training_rows import TrainingRows
from core.monitoring.reference import ReferenceProfile, build_profile
from core.run_schema import LABEL_COLUMN, SCORE_COLUMN
from core.scoring.loaded_model import LoadedModel
from core.scoring.prepare import model_categories
from core.store.access import load_model, load_validation_set
from core.store.training_rows import load_training_rows


def profile_from_validation(
    model: LoadedModel,
    validation: pd.DataFrame,
    run_id: str,
    threshold: float,
    training: TrainingRows | None = None,
) -> ReferenceProfile:
    """Profile a logged validation set with the model's features and the logged scores;
    `training` adds the training range of each numeric feature when the run recorded it."""
    return build_profile(
        validation,
        model.feature_names,
        list(model_categories(model)),
        validation[SCORE_COLUMN].to_numpy(),
        threshold,
        run_id=run_id,
        source=f"validation set of run {run_id}",
        labels=validation[LABEL_COLUMN].to_numpy(),
        training_ranges=training.ranges if training is not None else None,
        score_scale=model.scale,
    )


def profile_from_run(
    tracking_uri: str, client: MlflowClient, run_id: str, threshold: float
) -> ReferenceProfile:
    """Load a run's model and validation set and profile them."""
    model = load_model(tracking_uri, run_id)
    validation = load_validation_set(client, run_id)
    training = load_training_rows(client, run_id)
    return profile_from_validation(model, validation, run_id, threshold, training)
