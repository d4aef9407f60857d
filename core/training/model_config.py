"""What one training run is configured with, and the unfitted LightGBM classifier it builds."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import lightgbm as lgb

from core.errors import DataValidationError
from core.scoring.calibrator import CalibrationKind
from core.training.calibration import check_calibration

# TrainConfig hyper-parameters `python -m core train` takes as --flag VALUE, in its order.
CLI_HYPER_PARAMETERS = (
    "n_estimators",
    "max_depth",
    "num_leaves",
    "learning_rate",
    "subsample",
    "colsample_bytree",
    "reg_alpha",
    "reg_lambda",
    "min_child_samples",
)


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters and protocol of one training run (the seed's list plus CV and seed)."""

    run_name: str = "lgb_credit_risk"
    n_estimators: int = 200
    max_depth: int = 5
    num_leaves: int = 31
    learning_rate: float = 0.05
    subsample: float = 0.8
    colsample_bytree: float = 0.8
    reg_alpha: float = 1.0
    reg_lambda: float = 1.0
    min_child_samples: int = 20
    is_unbalance: bool = True
    monotone_constraints: dict[str, int] | None = None
    cv_folds: int = 5
    seed: int = 42
    validation_fraction: float = 0.25
    n_jobs: int = 1
    calibrate: CalibrationKind | None = None

    def __post_init__(self) -> None:
        """Refuse a calibration without CV folds to fit it on (DataValidationError)."""
        check_calibration(self.calibrate, self.cv_folds)

    def lgbm_params(self) -> dict[str, object]:
        """Keyword arguments for LGBMClassifier, without the monotone constraints."""
        return {
            "n_estimators": self.n_estimators,
            "max_depth": self.max_depth,
            "num_leaves": self.num_leaves,
            "learning_rate": self.learning_rate,
            "subsample": self.subsample,
            "subsample_freq": 1 if self.subsample < 1.0 else 0,
            "colsample_bytree": self.colsample_bytree,
            "reg_alpha": self.reg_alpha,
            "reg_lambda": self.reg_lambda,
            "min_child_samples": self.min_child_samples,
            "is_unbalance": self.is_unbalance,
            "random_state": self.seed,
            "deterministic": True,
            "force_col_wise": True,
            "n_jobs": self.n_jobs,
            "verbose": -1,
        }


def monotone_vector(features: Iterable[str], constraints: dict[str, int] | None) -> list[int]:
    """Translate constraints by name into LightGBM's list in feature order (it rejects a dict)."""
    names = list(features)
    unknown = sorted(set(constraints or {}) - set(names))
    if unknown:
        raise DataValidationError(
            f"Monotone constraints name unknown features: {', '.join(unknown)}.",
            fix=f"Use feature names from: {', '.join(names)}.",
        )
    return [int((constraints or {}).get(name, 0)) for name in names]


def build_model(config: TrainConfig, features: list[str]) -> lgb.LGBMClassifier:
    """An unfitted classifier with the config's parameters and monotone constraints."""
    return lgb.LGBMClassifier(
        **config.lgbm_params(),
        monotone_constraints=monotone_vector(features, config.monotone_constraints),
    )
