"""Promotion use cases shared by the page and the CLI: promote, rollback, show, history, verify."""

from __future__ import annotations

import contextlib
import math
import platform
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import lightgbm as lgb
import mlflow
import pandas as pd
from mlflow.entities import Run
from mlflow.tracking import MlflowClient

from core.errors import ArtifactMissingError, GovernanceError
from core.promotion import gates, ledger
from core.promotion.atomic_io import commit_file, ensure_writable_dir, exclusive_lock, stage_file
from core.promotion.export import (
    ExportedModel,
    ExportError,
    install_export,
    locate_model,
    staged_export,
    tree_sha256,
    verify_export,
)
from core.promotion.manifest import (
    EXPORT_FOLDER,
    GateResult,
    ManifestError,
    PromotionManifest,
    RegistryRecord,
    ledger_path,
    read_manifest,
)
from core.runs.stability import NO_CV, StabilityFlag, StabilityRule, stability_flags
from core.settings import Settings
from core.store import folds as fold_lib
from core.store import registry
from core.store.access import get_run, load_model, load_run_folds, load_validation_set, model_uri
from core.store.client import open_client
from core.threshold import parse_threshold

SNAPSHOT_CV = ("cv_auc_mean", "cv_auc_std", "cv_auc_min", "cv_ks_mean", "cv_ks_std")
LockWaitHook = Callable[[], None] | None


class GateFailedError(GovernanceError):
    """One or more promotion gates failed; nothing was written."""

    def __init__(self, results: tuple[GateResult, ...], *, action: str = "Promotion") -> None:
        failed = [g for g in results if not g.ok]
        names = "; ".join(f"{g.name}: {g.detail}" for g in failed)
        super().__init__(
            f"{action} stopped by {len(failed)} failed gate(s): {names}.",
            fix="Fix the cause or pick another run; only the AUC gate can be forced, "
            "with a written reason."
            if action == "Promotion"
            else "Pick another entry of the history, or promote a run instead.",
        )
        self.results = results


class RollbackError(GovernanceError):
    """There is nothing to roll back to, or the requested target is not in the history."""


@dataclass(frozen=True)
class RunSnapshot:
    """A run's headline numbers for comparison and the manifest's metrics snapshot."""

    run_id: str
    run_name: str
    status: str
    experiment_id: str
    metrics: dict[str, float]
    params: dict[str, str]
    data_version: str | None
    cv: dict[str, float] | None
    stability: StabilityFlag


@dataclass(frozen=True)
class PromotionRequest:
    """What the user asked for: a run, a threshold, who, why, and an optional force."""

    run_id: str
    threshold: str | float
    by: str
    reason: str
    force: bool = False
    force_reason: str = ""
    auc_tolerance: float = gates.DEFAULT_AUC_TOLERANCE


@dataclass(frozen=True)
class PromotionResult:
    """The manifest now in force, its ledger entry, and what the registry step did."""

    manifest: PromotionManifest
    entry: ledger.LedgerEntry
    registry_message: str
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Check:
    """One verification check and its outcome."""

    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class VerificationReport:
    """Ledger chain, manifest agreement, exported model checksum and registry agreement."""

    checks: tuple[Check, ...]
    entries: int = 0
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when every check passed."""
        return all(c.ok for c in self.checks)


# ---------------------------------------------------------------- reading runs


def run_cv(client: MlflowClient, run: Run) -> dict[str, float] | None:
    """The run's CV statistics from its folds, else from logged summaries, else None."""
    summary = fold_lib.fold_summary(load_run_folds(client, run.info.run_id))
    cv: dict[str, float] = {}
    if run.info.run_id in summary.index:
        row = summary.loc[run.info.run_id]
        cv = {k: float(row[k]) for k in SNAPSHOT_CV if k in row and pd.notna(row[k])}
    for name in SNAPSHOT_CV:
        logged = run.data.metrics.get(name)
        if name not in cv and logged is not None and math.isfinite(logged):
            cv[name] = float(logged)
    return cv if "cv_auc_mean" in cv and "cv_auc_std" in cv else None


def run_snapshot(client: MlflowClient, run_id: str, rule: StabilityRule) -> RunSnapshot:
    """A live run's metrics, params, CV statistics and stability flag."""
    run = get_run(client, run_id)
    cv = run_cv(client, run)
    metrics = {k: float(v) for k, v in run.data.metrics.items() if math.isfinite(v)}
    metrics.update(cv or {})
    flag = stability_flags(pd.DataFrame([cv]), rule).iloc[0] if cv else NO_CV
    return RunSnapshot(
        run_id=run_id,
        run_name=run.info.run_name or run_id[:8],
        status=run.info.status,
        experiment_id=run.info.experiment_id,
        metrics=metrics,
        params=dict(run.data.params),
        data_version=run.data.tags.get("data_version") or run.data.params.get("data_version"),
        cv=cv,
        stability=flag,
    )


def validation_or_none(client: MlflowClient, run_id: str) -> pd.DataFrame | None:
    """The run's logged validation set, or None when it logged none."""
    try:
        return load_validation_set(client, run_id)
    except ArtifactMissingError:
        return None


def threshold_approval_rate(validation: pd.DataFrame | None, threshold: float) -> float | None:
    """The approval rate the threshold gives on the run's logged validation scores."""
    if validation is None or "score" not in validation.columns:
        return None
    return gates.approval_rate(validation["score"], threshold)


# ---------------------------------------------------------------- gates


def _require_text(value: str, what: str, flag: str) -> str:
    """A non-blank text field, stripped, or PromotionInputError."""
    text = (value or "").strip()
    if not text:
        raise gates.PromotionInputError(
            f"{what} is empty.", fix=f"Say {what.lower()} with {flag} (it goes into the ledger)."
        )
    return text


def _model_gates(
    settings: Settings,
    client: MlflowClient,
    run_id: str,
    staged: ExportedModel,
    threshold: float,
) -> list[GateResult]:
    """Model loads from the export, then the smoke test against the run's own model."""
    exported, loads = gates.load_exported_model(staged.path)
    if exported is None:
        return [loads, gates.not_run(gates.SMOKE_TEST, "the model does not load")]
    try:
        reference: lgb.LGBMClassifier = load_model(settings.tracking_uri, run_id)
    except GovernanceError as exc:
        return [loads, gates.failed_gate(gates.SMOKE_TEST, exc)]
    applicants, source = gates.smoke_applicants(exported, validation_or_none(client, run_id))
    return [loads, gates.gate_smoke(exported, reference, applicants, source, threshold)]


def _promotion_gates(
    settings: Settings,
    client: MlflowClient,
    snapshot: RunSnapshot,
    run: Run,
    threshold: float,
    champion: PromotionManifest | None,
    request: PromotionRequest,
    staged: ExportedModel | None,
    export_error: GovernanceError | None,
) -> tuple[GateResult, ...]:
    """Every promotion gate, in checklist order."""
    results = [
        gates.gate_run_finished(run),
        gates.gate_threshold(threshold),
        gates.gate_auc(
            snapshot.metrics.get("val_auc"),
            champion.metrics.get("val_auc") if champion else None,
            request.auc_tolerance,
            request.force_reason.strip() if request.force else None,
        ),
        gates.gate_cv_stable(snapshot.cv, StabilityRule()),
    ]
    if staged is None:
        error = export_error or ExportError("The model could not be exported.")
        results += [
            gates.failed_gate(gates.MODEL_LOADS, error),
            gates.not_run(gates.SMOKE_TEST, "the model does not load"),
        ]
    else:
        results += _model_gates(settings, client, snapshot.run_id, staged, threshold)
    return tuple(results)


@contextlib.contextmanager
def _try_export(
    settings: Settings, client: MlflowClient, run_id: str, deploy_dir: Path
) -> Iterator[tuple[ExportedModel | None, GovernanceError | None]]:
    """The run's model staged under deploy_dir, or the error that prevented it."""
    with contextlib.ExitStack() as stack:
        try:
            staged = stack.enter_context(
                staged_export(settings.tracking_uri, client, run_id, deploy_dir)
            )
        except GovernanceError as exc:
            yield None, exc
            return
        yield staged, None


def check_gates(settings: Settings, request: PromotionRequest) -> tuple[GateResult, ...]:
    """A dry run of the gates for a request (exports to a temporary folder, writes nothing)."""
    threshold = parse_threshold(request.threshold)
    client = open_client(settings.tracking_uri)
    run = get_run(client, request.run_id)
    snapshot = run_snapshot(client, request.run_id, StabilityRule())
    champion = read_manifest(settings.promotion_manifest)
    with (
        tempfile.TemporaryDirectory(prefix="promotion-check-") as tmp,
        _try_export(settings, client, request.run_id, Path(tmp)) as (staged, error),
    ):
        return _promotion_gates(
            settings, client, snapshot, run, threshold, champion, request, staged, error
        )


# ---------------------------------------------------------------- state checks


@dataclass(frozen=True)
class _State:
    """The manifest and ledger as found under the lock."""

    manifest: PromotionManifest | None
    manifest_problem: str | None
    chain: ledger.ChainReport

    @property
    def head(self) -> ledger.LedgerEntry | None:
        """The last ledger entry."""
        return self.chain.entries[-1] if self.chain.entries else None


def _manifest_problem(manifest: PromotionManifest | None, chain: ledger.ChainReport) -> str | None:
    """How the manifest disagrees with the ledger head, or None when they agree."""
    head = chain.entries[-1] if chain.entries else None
    if manifest is None:
        return "the manifest is missing but the ledger has entries" if head else None
    if head is None:
        return "the manifest has no entry in the ledger (it was not written by a promotion)"
    if manifest.ledger_entry_hash != head.hash:
        return "the manifest does not point at the last ledger entry"
    if manifest.model_copy(update={"ledger_entry_hash": None}) != head.manifest:
        return "the manifest differs from the last ledger entry (edited by hand?)"
    return None


def _read_state(settings: Settings, *, tolerate_bad_manifest: bool) -> _State:
    """Read manifest and ledger; refuse a broken chain, and a bad manifest unless tolerated."""
    chain = ledger.require_intact(ledger_path(settings.promotion_manifest))
    try:
        manifest = read_manifest(settings.promotion_manifest)
    except ManifestError as exc:
        if not tolerate_bad_manifest:
            raise
        return _State(None, exc.message, chain)
    problem = _manifest_problem(manifest, chain)
    if problem and not tolerate_bad_manifest:
        raise ManifestError(
            f"The promotion manifest '{settings.promotion_manifest}' cannot be trusted: {problem}.",
            fix="Restore it from the ledger with `python -m core promote --rollback` "
            "(without --to it restores the last recorded promotion).",
        )
    return _State(None if problem else manifest, problem, chain)


# ---------------------------------------------------------------- writing


def _versions() -> dict[str, str]:
    """Library versions recorded with each promotion."""
    return {
        "mlflow": mlflow.__version__,
        "lightgbm": lgb.__version__,
        "python": platform.python_version(),
    }


def _now() -> str:
    """The current UTC time, ISO-8601 to the second."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def _registry_prepare(
    settings: Settings, experiment_name: str, run_id: str
) -> tuple[MlflowClient | None, RegistryRecord | None, str]:
    """Register (or find) the run's model version before anything is written."""
    if not registry.supports_registry(settings.tracking_uri):
        return None, None, registry.skipped_note(settings.tracking_uri)
    client = registry.registry_client(settings.tracking_uri)
    location = locate_model(client, run_id)
    record = registry.prepare_version(
        client,
        settings.registered_model_name or experiment_name,
        run_id,
        location.artifact_uri,
        location.model_id,
    )
    return client, record, ""


def _commit(
    settings: Settings,
    state: _State,
    manifest: PromotionManifest,
    staged: ExportedModel,
    restores_seq: int | None,
    registry_client: MlflowClient | None,
) -> PromotionResult:
    """Install the export, append the ledger entry and replace the manifest, in that order."""
    path = settings.promotion_manifest
    entry = ledger.new_entry(state.head, manifest, restores_seq)
    final = manifest.model_copy(update={"ledger_entry_hash": entry.hash})
    install_export(staged, manifest.exported_model_dir(path))
    staged_manifest = stage_file(path, final.to_json_bytes())
    try:
        staged_ledger = ledger.stage_append(ledger_path(path), entry)
    except GovernanceError:
        staged_manifest.unlink(missing_ok=True)
        raise
    commit_file(staged_ledger, ledger_path(path))
    commit_file(staged_manifest, path)
    warnings: list[str] = []
    if final.registry is not None and registry_client is not None:
        try:
            registry.mark_champion(registry_client, final.registry, final.threshold, entry.hash)
            message = (
                f"Registry: {final.registry.name} v{final.registry.version} is now "
                f"'{final.registry.alias}', tagged with threshold {final.threshold} "
                "and the ledger entry hash."
            )
        except registry.RegistryError as exc:
            message = f"Registry step failed after the promotion was recorded: {exc.message}"
            warnings.append(message)
    else:
        message = final.registry_note
    return PromotionResult(final, entry, message, tuple(warnings))


def promote(
    settings: Settings, request: PromotionRequest, *, on_lock_wait: LockWaitHook = None
) -> PromotionResult:
    """Run the gates; when they pass, export, append to the ledger and write the manifest."""
    threshold = parse_threshold(request.threshold)
    by = _require_text(request.by, "Who promotes", "--by")
    reason = _require_text(request.reason, "The reason", "--reason")
    force_reason = ""
    if request.force:
        force_reason = _require_text(request.force_reason, "The force reason", "--reason")
    path = settings.promotion_manifest
    ensure_writable_dir(path.parent)
    client = open_client(settings.tracking_uri)
    run = get_run(client, request.run_id)
    experiment = client.get_experiment(run.info.experiment_id)
    with exclusive_lock(path, on_wait=on_lock_wait):
        state = _read_state(settings, tolerate_bad_manifest=False)
        champion = state.manifest
        snapshot = run_snapshot(client, request.run_id, StabilityRule())
        with _try_export(settings, client, request.run_id, path.parent) as (staged, error):
            results = _promotion_gates(
                settings, client, snapshot, run, threshold, champion, request, staged, error
            )
            if staged is None or not all(g.ok for g in results):
                raise GateFailedError(results)
            reg_client, record, note = _registry_prepare(settings, experiment.name, request.run_id)
            manifest = PromotionManifest(
                run_id=request.run_id,
                run_name=snapshot.run_name,
                experiment_id=run.info.experiment_id,
                experiment_name=experiment.name,
                tracking_uri=settings.tracking_uri,
                model_uri=model_uri(request.run_id),
                exported_model_path=f"{EXPORT_FOLDER}/{request.run_id}",
                exported_model_sha256=staged.sha256,
                threshold=threshold,
                metrics=snapshot.metrics,
                params=snapshot.params,
                data_version=snapshot.data_version,
                promoted_by=by,
                promoted_at=_now(),
                reason=reason,
                action="promote",
                previous_run_id=champion.run_id if champion else None,
                previous_threshold=champion.threshold if champion else None,
                gate_results=list(results),
                versions=_versions(),
                forced=request.force,
                force_reason=force_reason or None,
                auc_tolerance=request.auc_tolerance,
                registry=record,
                registry_note=note,
            )
            return _commit(settings, state, manifest, staged, None, reg_client)


# ---------------------------------------------------------------- rollback


def _rollback_target(
    state: _State, to_run_id: str | None, to_seq: int | None
) -> ledger.LedgerEntry:
    """The entry whose state a rollback restores."""
    entries = state.chain.entries
    if not entries:
        raise RollbackError(
            "Nothing was promoted yet, so there is nothing to roll back to.",
            fix="Promote a run first.",
        )
    by_seq = {e.seq: e for e in entries}
    current = state.manifest
    if to_seq is not None:
        target = by_seq.get(to_seq)
        if target is None:
            raise RollbackError(f"The ledger has no entry {to_seq}.")
    elif to_run_id is not None:
        matches = [e for e in entries if e.manifest.run_id == to_run_id]
        if not matches:
            raise RollbackError(
                f"Run '{to_run_id}' was never promoted, so it cannot be rolled back to.",
                fix="Pick a run from `python -m core promote --history`.",
            )
        target = matches[-1]
    elif current is None:
        target = entries[-1]
    else:
        origin = entries[-1].origin_seq
        if origin <= 1:
            raise RollbackError(
                "The current champion is the first promotion in the ledger: "
                "there is no earlier one to roll back to.",
                fix="Promote another run instead.",
            )
        target = by_seq[origin - 1]
    if current is not None and (target.manifest.run_id, target.manifest.threshold) == (
        current.run_id,
        current.threshold,
    ):
        raise RollbackError(
            f"Run '{current.run_id}' with threshold {current.threshold} is already the champion.",
            fix="Pick an earlier entry from the history.",
        )
    return by_seq[target.origin_seq]


def _export_for_rollback(
    settings: Settings, client: MlflowClient, target: PromotionManifest, deploy_dir: Path
) -> contextlib.AbstractContextManager[tuple[ExportedModel | None, GovernanceError | None]]:
    """The target's export when intact; otherwise a fresh export from MLflow."""
    folder = target.exported_model_dir(settings.promotion_manifest)
    if folder.is_dir() and tree_sha256(folder) == target.exported_model_sha256:
        return contextlib.nullcontext((verify_export(folder, target.exported_model_sha256), None))
    return _try_export(settings, client, target.run_id, deploy_dir)


def rollback(
    settings: Settings,
    *,
    by: str,
    reason: str,
    to_run_id: str | None = None,
    to_seq: int | None = None,
    on_lock_wait: LockWaitHook = None,
) -> PromotionResult:
    """Restore an earlier promotion (the previous one by default) as a new ledger entry."""
    by = _require_text(by, "Who rolls back", "--by")
    reason = _require_text(reason, "The reason", "--reason")
    path = settings.promotion_manifest
    ensure_writable_dir(path.parent)
    client = open_client(settings.tracking_uri)
    with exclusive_lock(path, on_wait=on_lock_wait):
        state = _read_state(settings, tolerate_bad_manifest=True)
        target_entry = _rollback_target(state, to_run_id, to_seq)
        target = target_entry.manifest
        get_run(client, target.run_id)
        with _export_for_rollback(settings, client, target, path.parent) as (staged, error):
            if staged is None:
                results: tuple[GateResult, ...] = (
                    gates.failed_gate(gates.EXPORT_VERIFIED, error or ExportError("no export")),
                )
                raise GateFailedError(results, action="Rollback")
            export_ok = staged.sha256 == target.exported_model_sha256
            export_gate = GateResult(
                name=gates.EXPORT_VERIFIED,
                passed=export_ok,
                detail=f"sha256 {staged.sha256[:12]}… "
                + ("matches the recorded one" if export_ok else "differs from the recorded one"),
            )
            results = (
                export_gate,
                gates.gate_threshold(target.threshold),
                *_model_gates(settings, client, target.run_id, staged, target.threshold),
            )
            if not all(g.ok for g in results):
                raise GateFailedError(results, action="Rollback")
            reg_client, record, note = _registry_prepare(
                settings, target.experiment_name, target.run_id
            )
            previous = state.manifest or (state.head.manifest if state.head else None)
            manifest = target.model_copy(
                update={
                    "tracking_uri": settings.tracking_uri,
                    "promoted_by": by,
                    "promoted_at": _now(),
                    "reason": reason,
                    "action": "rollback",
                    "previous_run_id": previous.run_id if previous else None,
                    "previous_threshold": previous.threshold if previous else None,
                    "gate_results": list(results),
                    "versions": _versions(),
                    "forced": False,
                    "force_reason": None,
                    "registry": record,
                    "registry_note": note,
                    "ledger_entry_hash": None,
                }
            )
            return _commit(settings, state, manifest, staged, target_entry.seq, reg_client)


# ---------------------------------------------------------------- reading the record


def show(settings: Settings) -> PromotionManifest | None:
    """The manifest in force (None before the first promotion)."""
    return read_manifest(settings.promotion_manifest)


def history(settings: Settings) -> pd.DataFrame:
    """The ledger as a table, newest first: who, when, run, threshold, reason, gates."""
    report = ledger.read_chain(ledger_path(settings.promotion_manifest))
    rows = []
    for entry in report.entries:
        m = entry.manifest
        failed = [g.name for g in m.gate_results if not g.passed]
        gate_text = f"{sum(g.passed for g in m.gate_results)}/{len(m.gate_results)} passed"
        if failed:
            gate_text += " (overridden: " + ", ".join(failed) + ")"
        rows.append(
            {
                "entry": entry.seq,
                "action": m.action + (f" (to #{entry.restores_seq})" if entry.restores_seq else ""),
                "when": m.promoted_at,
                "who": m.promoted_by,
                "run_name": m.run_name,
                "run_id": m.run_id,
                "threshold": m.threshold,
                "val_auc": m.metrics.get("val_auc"),
                "reason": m.reason + (f" [forced: {m.force_reason}]" if m.forced else ""),
                "gates": gate_text,
                "registry": f"{m.registry.name} v{m.registry.version}" if m.registry else "",
                "hash": entry.hash[:12],
            }
        )
    columns = ["entry", "when", "who", "action", "run_name", "threshold", "reason", "gates"]
    columns += ["val_auc", "registry", "run_id", "hash"]
    return pd.DataFrame(rows, columns=columns).iloc[::-1].reset_index(drop=True)


def rollback_choices(settings: Settings) -> list[ledger.LedgerEntry]:
    """Ledger entries a rollback may restore (not the state in force), newest first."""
    report = ledger.read_chain(ledger_path(settings.promotion_manifest))
    if not report.entries:
        return []
    current = report.entries[-1].manifest
    seen: set[tuple[str, float]] = {(current.run_id, current.threshold)}
    choices = []
    for entry in reversed(report.entries):
        key = (entry.manifest.run_id, entry.manifest.threshold)
        if key not in seen and entry.restores_seq is None:
            seen.add(key)
            choices.append(entry)
    return choices


def verify(settings: Settings) -> VerificationReport:
    """Check the ledger chain, the manifest against its head, the export and the registry."""
    path = settings.promotion_manifest
    chain = ledger.read_chain(ledger_path(path))
    count = f"{len(chain.entries)} entr{'y' if len(chain.entries) == 1 else 'ies'}"
    checks = [
        Check(
            "ledger chain",
            chain.valid,
            f"{count}, hash chain intact" if chain.valid else "; ".join(chain.problems),
        )
    ]
    try:
        manifest = read_manifest(path)
    except ManifestError as exc:
        checks.append(Check("manifest", False, exc.message))
        return VerificationReport(tuple(checks), len(chain.entries), chain.problems)
    problem = _manifest_problem(manifest, chain) if chain.valid else None
    if manifest is None and not chain.entries:
        checks.append(Check("manifest", True, "nothing promoted yet"))
        return VerificationReport(tuple(checks), 0, chain.problems)
    checks.append(
        Check(
            "manifest matches ledger",
            problem is None and chain.valid,
            problem or ("matches the last entry" if chain.valid else "chain broken: not checked"),
        )
    )
    if manifest is not None:
        try:
            verify_export(manifest.exported_model_dir(path), manifest.exported_model_sha256)
            checks.append(Check("exported model", True, "sha256 matches the manifest"))
        except ExportError as exc:
            checks.append(Check("exported model", False, exc.message))
        if manifest.registry is not None:
            client = registry.registry_client(settings.tracking_uri)
            issues = registry.registry_problems(client, manifest)
            checks.append(
                Check("registry", not issues, "; ".join(issues) or "champion alias agrees")
            )
        else:
            checks.append(Check("registry", True, manifest.registry_note or "not used"))
    return VerificationReport(tuple(checks), len(chain.entries), chain.problems)
