"""The model the service scores with: verified against the manifest and ledger, hot swapped.

A `ServedModel` is immutable; a request takes `holder.model` once and scores with it to the end,
so a swap never mixes two models inside one response. The watcher thread polls the manifest
and the ledger; when they change it loads and verifies the new model beside the old one and
only then replaces the reference. A bad new manifest or export leaves the old model serving and
`readiness()` says why.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from core.errors import GovernanceError, ModelLoadError
from core.record import ledger
from core.record.export import load_export, verify_export
from core.record.ledger_trust import require_signed_head
from core.record.manifest import (
    MANIFEST_SCHEMA_VERSION,
    PromotionManifest,
    ledger_path,
    read_manifest,
)
from core.record.state import manifest_problem
from core.scoring.applicants import typical_applicant
from core.scoring.calibrator import RISK_SCORE, ScoreScale, scale_label
from core.scoring.loaded_model import LoadedModel
from core.scoring.reason_codes import ReasonCodeBook, load_reason_codes
from core.scoring.scorer import Scorer, scorer_for
from core.serving.errors import ServiceStartError
from core.threshold import Threshold

POLL_SECONDS = 0.25
# A promotion commits the ledger, then the manifest: between the two the manifest lags the
# ledger for a moment. A reload that finds it so is retried for this long (the old model
# serving, /ready 200) before /ready reports it.
SWAP_GRACE_SECONDS = 2.0
# How often the served export's files are hashed again against the manifest's sha256.
EXPORT_CHECK_SECONDS = 30.0
_LOG = logging.getLogger(__name__)
_PROMOTE_FIX = (
    "Promote a run first: python -m core promote --run-id RUN_ID --by NAME --reason WHY "
    "(or point PROMOTION_MANIFEST at the promoted manifest)."
)
_RESTORE_FIX = (
    "Restore the promoted state with `python -m core promote --rollback`; "
    "`python -m core promote --verify` lists every problem."
)


@dataclass(frozen=True)
class ModelIdentity:
    """What the service says about the model it serves (/version, every response)."""

    run_id: str
    run_name: str
    experiment_id: str
    experiment_name: str
    threshold: Threshold
    model_sha256: str
    promoted_at: str | None
    promoted_by: str | None
    ledger_entry_hash: str | None
    manifest_schema_version: int
    promoted_with: dict[str, str]
    score_scale: ScoreScale = RISK_SCORE
    # The requester and the approver as the manifest names them (None when it does not).
    signoffs: dict[str, dict | None] = field(default_factory=dict)
    # The model slot the manifest serves (its experiment's name for manifests before slots).
    slot: str = ""

    @property
    def score_name(self) -> str:
        """What the served output is called: 'risk score' unless it is a calibrated PD."""
        return scale_label(self.score_scale)

    @classmethod
    def from_manifest(cls, manifest: PromotionManifest) -> ModelIdentity:
        """The identity recorded in a promotion manifest (its threshold is the only one used)."""
        return cls(
            run_id=manifest.run_id,
            run_name=manifest.run_name,
            experiment_id=manifest.experiment_id,
            experiment_name=manifest.experiment_name,
            threshold=Threshold(manifest.threshold),
            model_sha256=manifest.exported_model_sha256,
            promoted_at=manifest.promoted_at,
            promoted_by=manifest.promoted_by,
            ledger_entry_hash=manifest.ledger_entry_hash,
            manifest_schema_version=manifest.schema_version,
            promoted_with=dict(manifest.versions),
            score_scale=manifest.score_scale,
            signoffs={
                "requester": manifest.requester.model_dump() if manifest.requester else None,
                "approver": manifest.approver.model_dump() if manifest.approver else None,
            },
            slot=manifest.served_slot,
        )

    @classmethod
    def candidate(
        cls,
        run_id: str,
        run_name: str,
        threshold: float,
        model_sha256: str,
        score_scale: ScoreScale = RISK_SCORE,
    ) -> ModelIdentity:
        """The identity of an export not yet promoted (the promotion's service smoke test)."""
        return cls(
            run_id=run_id,
            run_name=run_name,
            experiment_id="",
            experiment_name="",
            threshold=Threshold(threshold),
            model_sha256=model_sha256,
            promoted_at=None,
            promoted_by=None,
            ledger_entry_hash=None,
            manifest_schema_version=MANIFEST_SCHEMA_VERSION,
            promoted_with={},
            score_scale=score_scale,
        )


@dataclass(frozen=True)
class ServedModel:
    """A verified, loaded model with its Scorer, reason texts and identity."""

    identity: ModelIdentity
    model: LoadedModel
    scorer: Scorer
    book: ReasonCodeBook
    loaded_at: str

    @property
    def threshold(self) -> Threshold:
        """The business threshold from the manifest."""
        return self.identity.threshold


def load_bundle(folder: Path, identity: ModelIdentity, book: ReasonCodeBook) -> ServedModel:
    """Verify an exported folder's sha256, load it and warm its Scorer (raises on failure)."""
    verify_export(folder, identity.model_sha256)
    try:
        model = load_export(folder)
    except ModelLoadError as exc:
        raise ServiceStartError(
            f"The exported model in '{folder}' does not load ({exc.message}).", fix=_RESTORE_FIX
        ) from exc
    scorer = scorer_for(model)
    if scorer.scale != identity.score_scale:
        raise ServiceStartError(
            f"The manifest puts the threshold on the {scale_label(identity.score_scale)} scale, "
            f"but the exported model in '{folder}' outputs a {scorer.output_label}.",
            fix=_RESTORE_FIX,
        )
    scorer.score(typical_applicant(scorer.spec), identity.threshold, reason_book=book)
    return ServedModel(identity, model, scorer, book, datetime.now(UTC).isoformat())


class ManifestBehindLedgerError(ServiceStartError):
    """The ledger has a newer installed entry than the manifest names: a promotion is between
    committing its entry and its manifest (or was killed there; repair finishes it)."""


def verified_manifest(manifest_path: Path, trusted_key: str | None = None) -> PromotionManifest:
    """The manifest when something is promoted and it agrees with the intact ledger's head.

    With trusted_key (the ledger's public key) every signed entry must carry its signature and
    the head must be signed: a chain rewritten without the private key is refused.
    """
    manifest = read_manifest(manifest_path)
    if manifest is None:
        raise ServiceStartError(
            f"Nothing is promoted: there is no manifest at '{manifest_path}'.", fix=_PROMOTE_FIX
        )
    chain = ledger.require_intact(ledger_path(manifest_path), trusted_key)
    require_signed_head(ledger_path(manifest_path), chain, trusted_key)
    problem = manifest_problem(manifest, chain)
    if problem and manifest.ledger_entry_hash in {e.hash for e in chain.installs[:-1]}:
        raise ManifestBehindLedgerError(
            f"The promotion manifest '{manifest_path}' still names an earlier ledger entry "
            "than the last one installed (a promotion between its two writes, or interrupted).",
            fix=_RESTORE_FIX,
        )
    if problem:
        raise ServiceStartError(
            f"The promotion manifest '{manifest_path}' cannot be trusted: {problem}.",
            fix=_RESTORE_FIX,
        )
    return manifest


def read_manifest_or_none(manifest_path: Path) -> PromotionManifest | None:
    """The manifest, or None when it is absent or unreadable (the reload says why)."""
    try:
        return read_manifest(manifest_path)
    except GovernanceError:
        return None


def load_promoted(
    manifest_path: Path,
    reason_codes_file: Path,
    feature_policy_file: Path | None = None,
    trusted_key: str | None = None,
) -> ServedModel:
    """The promoted model: manifest checked against the ledger head, export against both."""
    manifest = verified_manifest(manifest_path, trusted_key)
    book = load_reason_codes(reason_codes_file, feature_policy_file)
    folder = manifest.exported_model_dir(manifest_path)
    return load_bundle(folder, ModelIdentity.from_manifest(manifest), book)


@dataclass(frozen=True)
class Readiness:
    """Whether the service is in step with the manifest, and why not."""

    ready: bool
    detail: str


def _file_signature(path: Path) -> tuple[int, int, int] | None:
    """What changes when a file is replaced or appended to (None when absent)."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size, stat.st_ino


class ModelHolder:
    """Holds the model in force; watches the manifest and swaps atomically when it changes."""

    def __init__(
        self,
        model: ServedModel,
        manifest_path: Path | None = None,
        reason_codes_file: Path | None = None,
        poll_seconds: float = POLL_SECONDS,
        feature_policy_file: Path | None = None,
        trusted_key: str | None = None,
        export_check_seconds: float = EXPORT_CHECK_SECONDS,
    ) -> None:
        """Serve `model`; with a manifest path, follow that manifest (else serve it as is)."""
        self._model = model
        self._manifest_path = manifest_path
        self._reason_codes_file = reason_codes_file
        self._feature_policy_file = feature_policy_file
        self._trusted_key = trusted_key
        self._export_check_seconds = export_check_seconds
        self._next_export_check = time.monotonic() + export_check_seconds
        self._failing_since: float | None = None
        self._poll_seconds = poll_seconds
        self._readiness = Readiness(True, f"serving run {model.identity.run_id}")
        self._signature = self._current_signature()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._check_lock = threading.Lock()

    @property
    def model(self) -> ServedModel:
        """The model in force (take it once per request)."""
        return self._model

    def readiness(self) -> Readiness:
        """Ready when a verified model is loaded and in step with the manifest."""
        return self._readiness

    def _current_signature(self) -> tuple[object, ...] | None:
        """The manifest's and the ledger's file signatures."""
        if self._manifest_path is None:
            return None
        path = self._manifest_path
        return _file_signature(path), _file_signature(ledger_path(path))

    def check_once(self) -> bool:
        """Reload when the manifest or ledger changed; True when a new model was swapped in."""
        if self._manifest_path is None:
            return False
        with self._check_lock:
            self._check_export()
            signature = self._current_signature()
            if signature == self._signature:
                return False
            self._signature = signature
            swapped = self._reload(self._manifest_path)
            if self._failing_since is not None:
                self._signature = None  # retried on the next poll while the grace lasts
            return swapped

    def _check_export(self) -> None:
        """Every export_check_seconds, hash the served export again; /ready says if it changed."""
        if self._manifest_path is None or time.monotonic() < self._next_export_check:
            return
        self._next_export_check = time.monotonic() + self._export_check_seconds
        identity = self._model.identity
        manifest = read_manifest_or_none(self._manifest_path)
        if manifest is None or manifest.exported_model_sha256 != identity.model_sha256:
            return  # a new promotion: the reload verifies it
        folder = manifest.exported_model_dir(self._manifest_path)
        try:
            verify_export(folder, identity.model_sha256)
        except GovernanceError as exc:
            self._readiness = Readiness(
                False,
                f"the exported model on disk changed after it was verified ({exc.message}); "
                f"still serving run {identity.run_id} as verified and loaded",
            )
            _LOG.warning("served export changed on disk: %s", exc)
            return
        if not self._readiness.ready and "changed after it was verified" in self._readiness.detail:
            self._readiness = Readiness(True, f"serving run {identity.run_id}")

    def _reload(self, manifest_path: Path) -> bool:
        """Verify and load what the manifest names; keep the old model on any failure."""
        current = self._model.identity
        try:
            manifest = verified_manifest(manifest_path, self._trusted_key)
            identity = ModelIdentity.from_manifest(manifest)
            if identity == current:
                self._failing_since = None
                self._readiness = Readiness(True, f"serving run {current.run_id}")
                return False
            book = (
                load_reason_codes(self._reason_codes_file, self._feature_policy_file)
                if self._reason_codes_file is not None
                else self._model.book
            )
            if identity.model_sha256 == current.model_sha256:
                loaded = ServedModel(
                    identity, self._model.model, self._model.scorer, book, self._model.loaded_at
                )
            else:
                loaded = load_bundle(manifest.exported_model_dir(manifest_path), identity, book)
        except GovernanceError as exc:
            now = time.monotonic()
            if isinstance(exc, ManifestBehindLedgerError):
                self._failing_since = self._failing_since or now
                if now - self._failing_since < SWAP_GRACE_SECONDS:
                    return False  # mid-promotion: the old model serves, ready stays as is
            self._failing_since = None
            self._readiness = Readiness(
                False,
                f"the promotion record changed but cannot be served ({exc}); "
                f"still serving run {current.run_id}",
            )
            _LOG.warning("model reload refused: %s", exc)
            return False
        self._failing_since = None
        self._model = loaded
        self._readiness = Readiness(True, f"serving run {identity.run_id}")
        _LOG.warning("now serving run %s (threshold %s)", identity.run_id, identity.threshold)
        return True

    def _watch(self) -> None:
        """Poll until stopped."""
        while not self._stop.wait(self._poll_seconds):
            try:
                self.check_once()
            except Exception:  # the watcher must outlive any surprise; the old model serves on
                _LOG.exception("manifest watcher error")

    def start(self) -> None:
        """Start watching the manifest (no-op without one)."""
        if self._manifest_path is None or self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._watch, name="manifest-watcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop watching."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
