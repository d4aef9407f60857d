"""A loaded model: the LightGBM classifier and its calibrator, read from one MLflow model folder.

The one loader of a model's files: a run's downloaded model and a promotion export alike, so the
Scorer of either applies the same calibrator. The calibrator travels with the classifier in this
value, never in a side table.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import lightgbm as lgb

from core.errors import ModelLoadError
from core.scoring.calibrator import Calibrator, ScoreScale, read_calibrator, scale_label, scale_of

LOG_THE_CLASSIFIER = (
    "Log the LGBMClassifier itself with mlflow.lightgbm.log_model (or mlflow.sklearn.log_model) "
    "under the name 'model'."
)


@dataclass(frozen=True, eq=False)
class LoadedModel:
    """A fitted LightGBM classifier and the calibrator of its output (None: a risk score)."""

    classifier: lgb.LGBMClassifier
    calibrator: Calibrator | None = None

    @property
    def scale(self) -> ScoreScale:
        """'calibrated_pd' when the model carries a calibrator, else 'risk_score'."""
        return scale_of(self.calibrator)

    @property
    def output_label(self) -> str:
        """What the output is called: 'probability of default (calibrated)' or 'risk score'."""
        return scale_label(self.scale)

    @property
    def feature_names(self) -> list[str]:
        """The model's features in LightGBM's order and spelling."""
        return list(self.classifier.feature_name_)


def _classifier_in(folder: Path) -> object:
    """The object a model folder holds: the lightgbm flavour, or an sklearn-flavour model."""
    import mlflow.lightgbm  # deferred: mlflow costs ~1 s to import
    from mlflow.exceptions import MlflowException
    from mlflow.models import Model

    try:
        flavors = Model.load(str(folder)).flavors
        if "lightgbm" not in flavors and "sklearn" in flavors:
            # another team's habit: an LGBMClassifier logged with mlflow.sklearn.log_model
            from mlflow import sklearn as mlflow_sklearn

            return mlflow_sklearn.load_model(str(folder))
        return mlflow.lightgbm.load_model(str(folder))
    except MlflowException as exc:
        raise ModelLoadError(
            f"MLflow could not load the model folder ({exc.message.splitlines()[0][:200]}).",
            fix=LOG_THE_CLASSIFIER,
        ) from exc


def load_model_folder(folder: str | Path) -> LoadedModel:
    """Load a local MLflow model folder: its LGBMClassifier and its calibrator.

    Raises ModelLoadError for a folder MLflow cannot load, one that holds anything but an
    LGBMClassifier (a raw Booster, another estimator) or an unreadable calibrator; the OS's
    errors pass through for the caller to name the source.
    """
    folder = Path(folder)
    classifier = _classifier_in(folder)
    if isinstance(classifier, lgb.Booster):
        raise ModelLoadError(
            "The model is a raw LightGBM Booster, not an LGBMClassifier.", fix=LOG_THE_CLASSIFIER
        )
    if not isinstance(classifier, lgb.LGBMClassifier):
        raise ModelLoadError(
            f"The model is a {type(classifier).__name__}, not a LightGBM classifier.",
            fix=LOG_THE_CLASSIFIER,
        )
    return LoadedModel(classifier, read_calibrator(folder))


def output_label(model: LoadedModel | None) -> str:
    """What a model's output is called ('risk score' when there is no model)."""
    return model.output_label if model is not None else scale_label(None)
