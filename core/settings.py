"""One validated settings object, read once from the environment."""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import urlparse

from core.errors import SettingsError
from core.settings_service import (
    DEFAULT_SCORING_BODY_TIMEOUT,
    auth_groups,
    jwt_settings,
    parse_body_timeout,
    parse_engine,
    parse_fsync,
    parse_public_key,
)
from core.threshold import InvalidThresholdError, Threshold, parse_threshold

DEFAULT_TRACKING_URI = "file:./mlruns"
DEFAULT_EXPERIMENT_NAME = "credit_risk_experiment"
DEFAULT_DECISION_THRESHOLD = Threshold(0.4542)
DEFAULT_PROMOTION_MANIFEST = "deploy/promotion.json"
DEFAULT_TARGET_APPROVAL_RATE = 0.85
DEFAULT_PROMOTION_AUC_TOLERANCE = 0.005
# The editable defaults ship inside the package (core/config/), so an installed copy has them.
CONFIG_DIR = Path(__file__).resolve().parent / "config"
DEFAULT_REASON_CODES_FILE = CONFIG_DIR / "reason_codes.toml"
DEFAULT_FEATURE_POLICY_FILE = CONFIG_DIR / "feature_policy.toml"
DEFAULT_MODEL_CARD_FILE = CONFIG_DIR / "model_card.toml"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
DEFAULT_SCORING_HOST = "127.0.0.1"
DEFAULT_SCORING_PORT = 8000
DEFAULT_SCORING_MAX_APPLICANTS = 10_000
DEFAULT_RUNS_SEARCH_PARTITION = 1_000
DECISION_LOG_FOLDER = "decisions"
PSI_MODERATE_SHIFT = 0.10
PSI_SIGNIFICANT_SHIFT = 0.25
AUC_DROP_ALERT = 0.03
# A run whose train AUC exceeds its mean CV AUC by more than this is flagged as overfit.
DEFAULT_OVERFIT_GAP = 0.10
# The fair-lending check judges a group's adverse impact ratio only from this many applicants.
FAIRNESS_MIN_GROUP = 30
DEFAULT_PROMOTION_APPROVALS = 1
SUPPORTED_PROMOTION_APPROVALS = (1, 2)
DEFAULT_PROMOTION_REQUEST_HOURS = 72.0
# Monitoring alert levels (core/monitoring/alerts.py explains each in one sentence).
PSI_NOISE_QUANTILE = 0.99
OUT_OF_RANGE_ALERT = 0.02
UNSEEN_CATEGORY_ALERT = 0.01
MISSING_SHIFT_ALERT = 0.05
APPROVAL_SHIFT_ALERT = 0.05
BAND_TEST_ALPHA = 0.01
MONITOR_MIN_LABELLED = 100
DEMO_DATA_ROWS = 12_000
DEMO_SEED = 1
# Sign-in (README "Four eyes, identity"): Streamlit's [auth] secrets, the token claim holding
# the groups, and the groups of each role.
DEFAULT_AUTH_SECRETS_FILE = ".streamlit/secrets.toml"
DEFAULT_AUTH_ROLES_CLAIM = "groups"

StoreKind = Literal["file", "sqlite", "server", "postgresql"]


@dataclass(frozen=True)
class Settings:
    """The dashboard's configuration: where the store is and the business threshold."""

    tracking_uri: str = DEFAULT_TRACKING_URI
    experiment_name: str = DEFAULT_EXPERIMENT_NAME
    decision_threshold: Threshold = DEFAULT_DECISION_THRESHOLD
    promotion_manifest: Path = Path(DEFAULT_PROMOTION_MANIFEST)
    promotion_auc_tolerance: float = DEFAULT_PROMOTION_AUC_TOLERANCE
    registered_model_name: str | None = None
    reason_codes_file: Path = DEFAULT_REASON_CODES_FILE
    feature_policy_file: Path = DEFAULT_FEATURE_POLICY_FILE
    promotion_approvals: int = DEFAULT_PROMOTION_APPROVALS
    promotion_request_hours: float = DEFAULT_PROMOTION_REQUEST_HOURS
    data_root: Path | None = None
    scoring_api_token: str | None = field(default=None, repr=False)
    decision_log: Path | None = None
    scoring_max_applicants: int = DEFAULT_SCORING_MAX_APPLICANTS
    scoring_url: str | None = None
    model_card_file: Path = DEFAULT_MODEL_CARD_FILE
    chromium_path: Path | None = None
    runs_search_partition: int = DEFAULT_RUNS_SEARCH_PARTITION
    auth_secrets_file: Path = Path(DEFAULT_AUTH_SECRETS_FILE)
    auth_roles_claim: str = DEFAULT_AUTH_ROLES_CLAIM
    auth_requesters: tuple[str, ...] = ()
    auth_approvers: tuple[str, ...] = ()
    auth_viewers: tuple[str, ...] = ()
    scoring_jwt_issuer: str | None = None
    scoring_jwt_jwks_url: str | None = None
    scoring_jwt_audience: str | None = None
    scoring_jwt_scope: str | None = None
    ledger_signing_key_file: Path | None = None
    ledger_signing_key: str | None = field(default=None, repr=False)
    ledger_public_key: str | None = None
    decision_log_fsync: Literal["batch", "off"] = "off"
    monitoring_engine: Literal["auto", "pandas", "duckdb", "spark"] = "auto"
    scoring_body_timeout: float = DEFAULT_SCORING_BODY_TIMEOUT

    @property
    def four_eyes(self) -> bool:
        """True when a promotion needs a second person's approval (maker-checker)."""
        return self.promotion_approvals > 1

    @property
    def decision_log_dir(self) -> Path:
        """Where the scoring service writes its decision log (DECISION_LOG, else beside the
        manifest)."""
        if self.decision_log is not None:
            return self.decision_log
        return self.promotion_manifest.parent / DECISION_LOG_FOLDER

    @property
    def store_kind(self) -> StoreKind:
        """Which kind of MLflow backend the tracking URI names."""
        return store_kind(self.tracking_uri)

    @property
    def file_store_path(self) -> Path | None:
        """The local directory of a file store, or None for other stores."""
        return file_store_path(self.tracking_uri)

    @property
    def migrate_command(self) -> str | None:
        """The one command that moves a legacy file store to SQLite, or None."""
        path = self.file_store_path
        if path is None:
            return None
        return f"mlflow migrate-filestore --source {path} --target sqlite:///mlflow.db"


def store_kind(tracking_uri: str) -> StoreKind:
    """Classify a tracking URI as a file store, a SQLite store or a tracking server."""
    scheme = urlparse(tracking_uri).scheme.lower()
    if scheme in ("http", "https"):
        return "server"
    if scheme == "sqlite":
        return "sqlite"
    if scheme.startswith("postgresql"):
        # The tracking server's own database, read directly (README "Deploying for a team").
        return "postgresql"
    if scheme in ("file", ""):
        return "file"
    raise SettingsError(
        f"MLFLOW_TRACKING_URI '{tracking_uri}' uses the unsupported scheme '{scheme}'.",
        fix="Use file:./mlruns, sqlite:///path/mlflow.db, http://host:port or "
        "postgresql+psycopg2://user@host:port/db.",
    )


def file_store_path(tracking_uri: str) -> Path | None:
    """Return the directory of a file-store URI (relative paths stay relative)."""
    if store_kind(tracking_uri) != "file":
        return None
    if tracking_uri.startswith("file://"):
        return Path(urlparse(tracking_uri).path)
    if tracking_uri.startswith("file:"):
        return Path(tracking_uri[len("file:") :])
    return Path(tracking_uri)


def sqlite_path(tracking_uri: str) -> Path:
    """The database file of a sqlite:/// tracking URI."""
    return Path(tracking_uri.removeprefix("sqlite:///"))


def _parse_threshold(raw: str) -> Threshold:
    """DECISION_THRESHOLD as a validated Threshold, or SettingsError naming the variable."""
    try:
        return parse_threshold(raw)
    except InvalidThresholdError as exc:
        raise SettingsError(
            exc.message.replace("Threshold", "DECISION_THRESHOLD", 1),
            fix="Set it to a probability strictly between 0 and 1, for example 0.4542.",
        ) from None


def _parse_tolerance(raw: str) -> float:
    """Parse an AUC tolerance in [0, 0.5]."""
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 0.5:
        raise SettingsError(
            f"PROMOTION_AUC_TOLERANCE '{raw}' is not a number in [0, 0.5].",
            fix="Set it to the AUC drop against the champion you accept, for example 0.005.",
        )
    return value


def _parse_approvals(raw: str) -> int:
    """PROMOTION_APPROVALS: how many people a promotion takes (1, or 2 for maker-checker)."""
    if raw.strip() not in {str(n) for n in SUPPORTED_PROMOTION_APPROVALS}:
        raise SettingsError(
            f"PROMOTION_APPROVALS '{raw}' is not supported.",
            fix="Set it to 1 (one person promotes) or 2 (one requests, another approves).",
        )
    return int(raw)


def _parse_request_hours(raw: str) -> float:
    """PROMOTION_REQUEST_HOURS: how long a pending request stays approvable (> 0)."""
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not (value > 0 and value < float("inf")):
        raise SettingsError(
            f"PROMOTION_REQUEST_HOURS '{raw}' is not a positive number of hours.",
            fix="Set it to how long a promotion request may wait for approval, for example 72.",
        )
    return value


def _positive_int(name: str, raw: str, fix: str) -> int:
    """A setting that must be a positive whole number."""
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise SettingsError(f"{name} '{raw}' is not a positive whole number.", fix=fix)
    return value


def _parse_max_applicants(raw: str) -> int:
    """SCORING_MAX_APPLICANTS as a positive integer."""
    return _positive_int(
        "SCORING_MAX_APPLICANTS",
        raw,
        f"Set it to the most applicants one request may carry, for example "
        f"{DEFAULT_SCORING_MAX_APPLICANTS}.",
    )


def _parse_search_partition(raw: str) -> int:
    """RUNS_SEARCH_PARTITION: about how many runs one parallel search window of a tracking
    server should hold."""
    if not raw:
        return DEFAULT_RUNS_SEARCH_PARTITION
    return _positive_int(
        "RUNS_SEARCH_PARTITION",
        raw,
        f"Set it to about how many runs one parallel search of a tracking server should read, "
        f"for example {DEFAULT_RUNS_SEARCH_PARTITION}.",
    )


def _parse_data_root(raw: str) -> Path | None:
    """DATA_ROOT: the only folder the dashboard reads server-side files from (None: none)."""
    if not raw:
        return None
    root = Path(raw).expanduser()
    if not root.is_dir():
        raise SettingsError(
            f"DATA_ROOT '{raw}' is not a folder.",
            fix="Point it at the folder holding the labelled files analysts may open, "
            "or unset it to turn the server-side file path off.",
        )
    return root.resolve()


def _parse_scoring_url(raw: str) -> str:
    """SCORING_URL as an http(s) base URL without a trailing slash."""
    parsed = urlparse(raw)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise SettingsError(
            f"SCORING_URL '{raw}' is not an http(s) URL.",
            fix=f"Set it to the scoring service's base URL, for example "
            f"http://{DEFAULT_SCORING_HOST}:{DEFAULT_SCORING_PORT}.",
        )
    return raw.rstrip("/")


def _parse_chromium(raw: str) -> Path | None:
    """CHROMIUM_PATH (an executable), else the first of CHROMIUM_NAMES on PATH, else None."""
    if not raw:
        found = next(filter(None, (shutil.which(name) for name in CHROMIUM_NAMES)), None)
        return Path(found) if found else None
    path = Path(raw).expanduser()
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise SettingsError(
            f"CHROMIUM_PATH '{raw}' is not an executable file.",
            fix="Point it at Chromium or Chrome (e.g. /usr/bin/chromium), or unset it to "
            "search PATH.",
        )
    return path


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read and validate settings from the environment (or the mapping given)."""
    source = os.environ if env is None else env
    tracking_uri = source.get("MLFLOW_TRACKING_URI", "").strip() or DEFAULT_TRACKING_URI
    store_kind(tracking_uri)
    experiment_name = source.get("MLFLOW_EXPERIMENT_NAME", "").strip() or DEFAULT_EXPERIMENT_NAME
    raw_threshold = source.get("DECISION_THRESHOLD", "").strip()
    threshold = _parse_threshold(raw_threshold) if raw_threshold else DEFAULT_DECISION_THRESHOLD
    manifest = source.get("PROMOTION_MANIFEST", "").strip() or DEFAULT_PROMOTION_MANIFEST
    raw_tolerance = source.get("PROMOTION_AUC_TOLERANCE", "").strip()
    raw_max_applicants = source.get("SCORING_MAX_APPLICANTS", "").strip()
    raw_scoring_url = source.get("SCORING_URL", "").strip()
    decision_log = source.get("DECISION_LOG", "").strip()
    return Settings(
        tracking_uri=tracking_uri,
        experiment_name=experiment_name,
        decision_threshold=threshold,
        promotion_manifest=Path(manifest),
        promotion_auc_tolerance=(
            _parse_tolerance(raw_tolerance) if raw_tolerance else DEFAULT_PROMOTION_AUC_TOLERANCE
        ),
        registered_model_name=source.get("REGISTERED_MODEL_NAME", "").strip() or None,
        reason_codes_file=Path(
            source.get("REASON_CODES_FILE", "").strip() or DEFAULT_REASON_CODES_FILE
        ),
        feature_policy_file=Path(
            source.get("FEATURE_POLICY_FILE", "").strip() or DEFAULT_FEATURE_POLICY_FILE
        ),
        promotion_approvals=_parse_approvals(
            source.get("PROMOTION_APPROVALS", "").strip() or str(DEFAULT_PROMOTION_APPROVALS)
        ),
        promotion_request_hours=_parse_request_hours(
            source.get("PROMOTION_REQUEST_HOURS", "").strip()
            or str(DEFAULT_PROMOTION_REQUEST_HOURS)
        ),
        data_root=_parse_data_root(source.get("DATA_ROOT", "").strip()),
        scoring_api_token=source.get("SCORING_API_TOKEN", "").strip() or None,
        decision_log=Path(decision_log) if decision_log else None,
        scoring_max_applicants=(
            _parse_max_applicants(raw_max_applicants)
            if raw_max_applicants
            else DEFAULT_SCORING_MAX_APPLICANTS
        ),
        scoring_url=_parse_scoring_url(raw_scoring_url) if raw_scoring_url else None,
        model_card_file=Path(source.get("MODEL_CARD_FILE", "").strip() or DEFAULT_MODEL_CARD_FILE),
        chromium_path=_parse_chromium(source.get("CHROMIUM_PATH", "").strip()),
        runs_search_partition=_parse_search_partition(
            source.get("RUNS_SEARCH_PARTITION", "").strip()
        ),
        auth_secrets_file=Path(
            source.get("AUTH_SECRETS_FILE", "").strip() or DEFAULT_AUTH_SECRETS_FILE
        ),
        auth_roles_claim=source.get("AUTH_ROLES_CLAIM", "").strip() or DEFAULT_AUTH_ROLES_CLAIM,
        auth_requesters=auth_groups(source.get("AUTH_REQUESTERS", "")),
        auth_approvers=auth_groups(source.get("AUTH_APPROVERS", "")),
        auth_viewers=auth_groups(source.get("AUTH_VIEWERS", "")),
        **jwt_settings(source),  # type: ignore[arg-type]
        ledger_signing_key_file=(
            Path(key_file).expanduser()
            if (key_file := source.get("LEDGER_SIGNING_KEY_FILE", "").strip())
            else None
        ),
        ledger_signing_key=source.get("LEDGER_SIGNING_KEY", "").strip() or None,
        ledger_public_key=parse_public_key(source.get("LEDGER_PUBLIC_KEY", "").strip()),
        decision_log_fsync=parse_fsync(source.get("DECISION_LOG_FSYNC", "").strip().lower()),
        scoring_body_timeout=parse_body_timeout(source.get("SCORING_BODY_TIMEOUT", "").strip()),
        monitoring_engine=parse_engine(source.get("MONITORING_ENGINE", "").strip().lower()),
    )


def prepare_mlflow_environment(tracking_uri: str) -> None:
    """Set the process-wide MLflow switches a tracking URI needs, before any client exists.

    MLflow 3.17 refuses file stores unless MLFLOW_ALLOW_FILE_STORE is true, and retries an
    unreachable server for minutes by default; the dashboard wants a quick, clear answer.
    """
    if store_kind(tracking_uri) == "file":
        os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "1")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "1")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "15")
