"""Which runs to train: the demo sweep (contrasting, two deliberately unstable) and grids."""

from __future__ import annotations

from dataclasses import replace

from core.errors import DataValidationError
from core.training.model_config import TrainConfig

DEMO_CONFIGS: tuple[TrainConfig, ...] = (
    TrainConfig(run_name="lgb_baseline", n_estimators=200, max_depth=5, learning_rate=0.05),
    TrainConfig(
        run_name="lgb_shallow_stumps", n_estimators=60, max_depth=1, num_leaves=2, learning_rate=0.1
    ),
    TrainConfig(
        run_name="lgb_regularised",
        n_estimators=300,
        max_depth=4,
        num_leaves=15,
        learning_rate=0.03,
        reg_alpha=3.0,
        reg_lambda=5.0,
        min_child_samples=60,
    ),
    # Learning rate 1 on unregularised deep trees diverges on some folds and not others.
    TrainConfig(
        run_name="lgb_deep_overfit",
        n_estimators=60,
        max_depth=-1,
        num_leaves=255,
        learning_rate=1.0,
        reg_alpha=0.0,
        reg_lambda=0.0,
        min_child_samples=1,
        subsample=1.0,
        colsample_bytree=1.0,
    ),
    # Tiny leaves on 30% bags without regularisation: fold AUCs swing well beyond noise.
    TrainConfig(
        run_name="lgb_small_sample",
        n_estimators=150,
        max_depth=8,
        num_leaves=127,
        learning_rate=0.6,
        subsample=0.3,
        colsample_bytree=0.4,
        reg_alpha=0.0,
        reg_lambda=0.0,
        min_child_samples=2,
    ),
    TrainConfig(
        run_name="lgb_slow_learner",
        n_estimators=500,
        max_depth=3,
        num_leaves=7,
        learning_rate=0.02,
        min_child_samples=40,
    ),
)


def demo_configs(monotone: dict[str, int]) -> list[TrainConfig]:
    """The demo sweep: runs whose AUC and CV spread visibly differ."""
    return [replace(c, monotone_constraints=monotone) for c in DEMO_CONFIGS]


def grid_configs(base: TrainConfig, grid: dict[str, list[object]]) -> list[TrainConfig]:
    """The cartesian product of a parameter grid over a base config."""
    configs = [base]
    for name, values in grid.items():
        if name not in TrainConfig.__dataclass_fields__:
            raise DataValidationError(f"Unknown grid parameter '{name}'.")
        configs = [replace(c, **{name: v}) for c in configs for v in values]
    return [replace(c, run_name=f"{base.run_name}_{i:02d}") for i, c in enumerate(configs, start=1)]
