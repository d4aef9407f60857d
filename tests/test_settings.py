"""Settings: defaults, validation and store classification."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from core.errors import SettingsError
from core.settings import (
    DEFAULT_DECISION_THRESHOLD,
    load_settings,
    prepare_mlflow_environment,
    store_kind,
)


def test_defaults_match_the_teams_routine() -> None:
    # given an empty environment / when settings load
    settings = load_settings({})
    # then they are the seed's store, experiment, threshold and manifest path
    assert settings.tracking_uri == "file:./mlruns"
    assert settings.experiment_name == "credit_risk_experiment"
    assert settings.decision_threshold == DEFAULT_DECISION_THRESHOLD == 0.4542
    assert settings.promotion_manifest == Path("deploy/promotion.json")


def test_environment_overrides_are_read() -> None:
    env = {
        "MLFLOW_TRACKING_URI": "sqlite:///x.db",
        "MLFLOW_EXPERIMENT_NAME": "other",
        "DECISION_THRESHOLD": "0.3",
        "PROMOTION_MANIFEST": "/tmp/m.json",
    }
    settings = load_settings(env)
    assert (settings.tracking_uri, settings.experiment_name) == ("sqlite:///x.db", "other")
    assert settings.decision_threshold == 0.3
    assert settings.promotion_manifest == Path("/tmp/m.json")
    assert settings.store_kind == "sqlite"
    assert settings.migrate_command is None


@pytest.mark.parametrize("raw", ["abc", "1.5", "0", "1", "-0.2"])
def test_bad_threshold_says_what_to_fix(raw: str) -> None:
    with pytest.raises(SettingsError, match="DECISION_THRESHOLD") as info:
        load_settings({"DECISION_THRESHOLD": raw})
    assert "between 0 and 1" in str(info.value)


def test_unsupported_scheme_is_refused() -> None:
    with pytest.raises(SettingsError, match="unsupported scheme 'ftp'"):
        load_settings({"MLFLOW_TRACKING_URI": "ftp://host/store"})


@pytest.mark.parametrize(
    ("uri", "kind"),
    [
        ("file:./mlruns", "file"),
        ("./mlruns", "file"),
        ("file:///abs/mlruns", "file"),
        ("sqlite:///mlflow.db", "sqlite"),
        ("http://127.0.0.1:5000", "server"),
        ("https://mlflow.example", "server"),
    ],
)
def test_store_kind(uri: str, kind: str) -> None:
    assert store_kind(uri) == kind


def test_file_store_gets_the_migration_command_and_is_allowed(monkeypatch) -> None:
    # given a file store URI
    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE", raising=False)
    settings = load_settings({"MLFLOW_TRACKING_URI": "file:./mlruns"})
    # when the environment is prepared
    prepare_mlflow_environment(settings.tracking_uri)
    # then MLflow will accept the file store, and the UI can show the one migration command
    assert os.environ["MLFLOW_ALLOW_FILE_STORE"] == "true"
    assert settings.migrate_command == (
        "mlflow migrate-filestore --source mlruns --target sqlite:///mlflow.db"
    )


def test_promotion_tolerance_and_registered_name_are_configurable() -> None:
    settings = load_settings({"PROMOTION_AUC_TOLERANCE": "0.01", "REGISTERED_MODEL_NAME": "pd"})
    assert settings.promotion_auc_tolerance == 0.01
    assert settings.registered_model_name == "pd"
    assert load_settings({}).registered_model_name is None
    with pytest.raises(SettingsError, match="PROMOTION_AUC_TOLERANCE"):
        load_settings({"PROMOTION_AUC_TOLERANCE": "lots"})
