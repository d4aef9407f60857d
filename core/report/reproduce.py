"""Reproducibility: code and package versions, seed, and the command that reproduces val_auc."""

from __future__ import annotations

import json
import re
import shlex

from core.code_version import package_versions
from core.record.manifest import PromotionManifest
from core.report.pack import ReproducibilitySection
from core.store.run_record import RunRecord
from core.training.model_config import CLI_HYPER_PARAMETERS

_SYNTHETIC = re.compile(r"synthetic\(n_rows=(\d+), seed=(\d+)\)")
_DEFAULT_VALIDATION_FRACTION = "0.25"


def _monotone_spec(raw: str | None) -> str:
    """'{"a": -1}' as the CLI's 'a:-1'."""
    try:
        constraints = json.loads(raw or "{}")
    except json.JSONDecodeError:
        return ""
    return (
        ",".join(f"{k}:{v}" for k, v in constraints.items())
        if isinstance(constraints, dict)
        else ""
    )


def train_command(params: dict[str, str], run_name: str) -> tuple[str | None, str]:
    """The `python -m core train` command that re-trains a governed run, or None and why not."""
    needed = (*CLI_HYPER_PARAMETERS, "seed", "cv_folds", "data_source", "is_unbalance")
    absent = [name for name in needed if name not in params]
    if absent:
        return None, (
            "No training command recorded: the run logged no "
            f"{', '.join(absent[:4])}{' …' if len(absent) > 4 else ''} (it was not trained by "
            "`python -m core train`), so val_auc cannot be reproduced from the pack."
        )
    if (
        params.get("validation_fraction", _DEFAULT_VALIDATION_FRACTION)
        != _DEFAULT_VALIDATION_FRACTION
    ):
        return None, "The run used a validation fraction the CLI does not take."
    seed = params["seed"]
    args = ["python", "-m", "core", "train"]
    source = params["data_source"]
    synthetic = _SYNTHETIC.fullmatch(source)
    if synthetic is not None:
        if synthetic.group(2) != seed:
            return None, (
                f"The synthetic data seed ({synthetic.group(2)}) differs from the training seed "
                f"({seed}); the CLI's --seed sets both, so no single command reproduces it."
            )
        args += ["--rows", synthetic.group(1)]
    else:
        args += ["--data", source, "--target", params.get("target", "default")]
        if params.get("categorical_columns"):
            args += ["--categorical", params["categorical_columns"]]
    monotone = _monotone_spec(params.get("monotone_constraints"))
    args += ["--monotone", monotone] if monotone else []
    args += ["--run-name", run_name, "--seed", seed, "--cv-folds", params["cv_folds"]]
    for name in CLI_HYPER_PARAMETERS:
        args += [f"--{name.replace('_', '-')}", params[name]]
    if params["is_unbalance"] == "False":
        args.append("--no-unbalance")
    note = (
        ""
        if synthetic
        else f"Run it on the same file: data_version {params.get('data_version', '?')}."
    )
    return shlex.join(args), note


def reproducibility(
    record: RunRecord, promoted: PromotionManifest | None
) -> ReproducibilitySection:
    """What reproduces the run: code version tag, package versions, seed, training command."""
    command, note = train_command(record.params, record.run_name)
    packages = package_versions() | (dict(promoted.versions) if promoted else {})
    return ReproducibilitySection(
        code_version=record.run.data.tags.get("code_version"),
        packages=packages,
        seed=record.params.get("seed") or record.params.get("random_state"),
        val_auc=record.metrics.get("val_auc"),
        command=command,
        command_note=note,
    )
