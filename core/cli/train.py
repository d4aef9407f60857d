"""`python -m core train`: train LightGBM runs (demo set, a grid, or random sweep) into MLflow."""

from __future__ import annotations

import argparse
import random
import sys
from dataclasses import replace
from pathlib import Path

from core.data.synthetic import demo_dataset, load_dataset, parse_monotone_spec
from core.errors import DataValidationError
from core.scoring.calibrator import CALIBRATION_KINDS, scale_label
from core.settings import DEMO_DATA_ROWS, DEMO_SEED, Settings
from core.store.access import load_runs_table
from core.store.client import ExperimentNotFoundError, get_experiment, open_client
from core.training.configs import demo_configs, grid_configs
from core.training.model_config import CLI_HYPER_PARAMETERS, TrainConfig
from core.training.trainer import TrainedRun, train_many

_SWEEP_SPACE: dict[str, list[object]] = {
    "num_leaves": [7, 15, 31, 63],
    "max_depth": [3, 4, 5, 6, -1],
    "learning_rate": [0.02, 0.05, 0.1],
    "n_estimators": [100, 200, 300],
    "min_child_samples": [10, 20, 50],
    "reg_lambda": [0.0, 1.0, 5.0],
}


def register(commands: argparse._SubParsersAction) -> None:
    """Add the train subcommand."""
    parser = commands.add_parser(
        "train",
        help="train LightGBM runs and log them to MLflow",
        description="Train LightGBM default models with stratified CV and log governed runs.",
    )
    source = parser.add_argument_group("data")
    source.add_argument("--data", help="CSV or Parquet file (default: built-in synthetic data)")
    source.add_argument("--target", help="target column of --data (0 good, 1 bad)")
    source.add_argument("--categorical", default="", help="comma-separated categorical columns")
    source.add_argument("--id-column", help="identifier column, kept out of the features")
    source.add_argument(
        "--monotone",
        default=None,
        help="monotone constraints by name, e.g. credit_score:-1 (default for demo data: "
        "credit_score:-1,debt_to_income:1,delinquencies_2y:1)",
    )
    source.add_argument("--rows", type=int, default=DEMO_DATA_ROWS, help="rows of synthetic data")
    source.add_argument(
        "--model-card",
        help="the model card (TOML) these runs are trained under; logged with each run for its "
        "evidence pack (default: the demo's card for the synthetic data, none for --data)",
    )
    what = parser.add_argument_group("what to train")
    what.add_argument("--demo", action="store_true", help="the demo set of 6 contrasting runs")
    what.add_argument(
        "--if-empty",
        action="store_true",
        help="do nothing when the experiment already has finished runs",
    )
    what.add_argument(
        "--grid",
        help="a grid, e.g. 'num_leaves=15,31;learning_rate=0.05,0.1' (one run per combination)",
    )
    what.add_argument("--runs", type=int, help="a random sweep of N runs over a built-in space")
    what.add_argument("--run-name", default="lgb_credit_risk")
    what.add_argument("--cv-folds", type=int, default=5, help="stratified CV folds (0 = none)")
    what.add_argument("--seed", type=int, default=DEMO_SEED)
    what.add_argument(
        "--calibrate",
        choices=CALIBRATION_KINDS,
        default=None,
        help="fit a calibrator on the out-of-fold CV scores and log it with the model, so the "
        "output is a calibrated probability of default (needs CV folds); without it the "
        "output is a risk score",
    )
    what.add_argument(
        "--n-jobs", type=int, default=1, help="LightGBM threads (1 is fastest on small data)"
    )
    hyper = parser.add_argument_group("hyper-parameters (single run or grid base)")
    defaults = TrainConfig()
    for name in CLI_HYPER_PARAMETERS:
        kind = type(getattr(defaults, name))
        hyper.add_argument(
            f"--{name.replace('_', '-')}", type=kind, default=getattr(defaults, name)
        )
    hyper.add_argument("--no-unbalance", action="store_true", help="turn off is_unbalance")
    parser.set_defaults(handler=run)


def _parse_grid(spec: str) -> dict[str, list[object]]:
    """Parse 'a=1,2;b=0.1,0.2' into lists of numbers (ints where possible)."""
    grid: dict[str, list[object]] = {}
    for part in filter(None, (p.strip() for p in spec.split(";"))):
        name, _, values = part.partition("=")
        parsed: list[object] = []
        for raw in values.split(","):
            try:
                parsed.append(int(raw) if raw.strip().lstrip("-").isdigit() else float(raw))
            except ValueError:
                raise DataValidationError(
                    f"Grid value '{raw}' for '{name}' is not a number."
                ) from None
        if not parsed or not name.strip():
            raise DataValidationError(f"Grid part '{part}' is not NAME=V1,V2.")
        grid[name.strip()] = parsed
    return grid


def _has_finished_runs(settings: Settings, tracking_uri: str) -> bool:
    """True when the configured experiment already holds a finished run."""
    client = open_client(tracking_uri)
    try:
        experiment = get_experiment(client, settings.experiment_name)
    except ExperimentNotFoundError:
        return False
    runs = load_runs_table(client, tracking_uri, experiment.experiment_id).runs
    return bool((runs["status"] == "FINISHED").any()) if not runs.empty else False


def _report(index: int, total: int, result: TrainedRun) -> None:
    """One progress line per finished run."""
    cv = f"cv_auc {sum(result.cv_auc) / len(result.cv_auc):.4f}" if result.cv_auc else "no CV"
    print(
        f"[{index}/{total}] {result.run_name:<22} val_auc {result.val_auc:.4f}  "
        f"val_ks {result.val_ks:.4f}  {cv}  output: {scale_label(result.scale)}  "
        f"run_id {result.run_id}",
        flush=True,
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Train the requested runs and print one line per run."""
    tracking_uri = settings.tracking_uri
    if args.if_empty and _has_finished_runs(settings, tracking_uri):
        print(f"Experiment '{settings.experiment_name}' already has runs; nothing to train.")
        return 0
    if args.data:
        if not args.target:
            raise DataValidationError("--data needs --target.", fix="Name the 0/1 target column.")
        categorical = [c.strip() for c in args.categorical.split(",") if c.strip()]
        dataset = load_dataset(
            args.data,
            target=args.target,
            categorical=categorical,
            id_column=args.id_column,
            monotone_constraints=parse_monotone_spec(args.monotone),
        )
    else:
        dataset = demo_dataset(n_rows=args.rows, seed=args.seed)
        if args.monotone is not None:
            dataset = replace(dataset, monotone_constraints=parse_monotone_spec(args.monotone))
    if args.cv_folds == 1 or args.cv_folds < 0:
        raise DataValidationError("--cv-folds must be 0 (no CV) or at least 2.")
    base = TrainConfig(
        run_name=args.run_name,
        n_estimators=args.n_estimators,
        max_depth=args.max_depth,
        num_leaves=args.num_leaves,
        learning_rate=args.learning_rate,
        subsample=args.subsample,
        colsample_bytree=args.colsample_bytree,
        reg_alpha=args.reg_alpha,
        reg_lambda=args.reg_lambda,
        min_child_samples=args.min_child_samples,
        is_unbalance=not args.no_unbalance,
        monotone_constraints=dataset.monotone_constraints,
        cv_folds=args.cv_folds,
        seed=args.seed,
        n_jobs=args.n_jobs,
        calibrate=args.calibrate,
    )
    if args.demo:
        configs = [
            replace(c, seed=args.seed, cv_folds=args.cv_folds, calibrate=args.calibrate)
            for c in demo_configs(dataset.monotone_constraints)
        ]
    elif args.grid:
        configs = grid_configs(base, _parse_grid(args.grid))
    elif args.runs:
        rng = random.Random(args.seed)
        configs = [
            replace(
                base,
                run_name=f"{args.run_name}_sweep_{i:02d}",
                **{k: rng.choice(v) for k, v in _SWEEP_SPACE.items()},
            )
            for i in range(1, args.runs + 1)
        ]
    else:
        configs = [base]
    print(
        f"Training {len(configs)} run(s) on {dataset.source} ({len(dataset.target):,} rows, "
        f"default rate {dataset.default_rate:.1%}) into '{settings.experiment_name}' at "
        f"{tracking_uri}",
        flush=True,
    )
    card = Path(args.model_card) if args.model_card else None
    if card is None and not args.data:
        card = settings.model_card_file
    if card is not None and not card.is_file():
        raise DataValidationError(f"The model card {card} does not exist.", fix="Give a TOML file.")
    train_many(
        tracking_uri, settings.experiment_name, dataset, configs, on_done=_report, model_card=card
    )
    sys.stdout.flush()
    return 0
