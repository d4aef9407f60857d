"""Make the evidence pack of a run: HTML bytes, files on disk, the copy frozen with a promotion."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from mlflow.tracking import MlflowClient

from core.monitoring.reference import ReferenceProfile
from core.record.atomic_io import write_atomic
from core.record.manifest import PromotionManifest
from core.record.verification import VerificationReport
from core.report.pdf import print_pdf
from core.report.render import render_html
from core.report.sections import build_pack
from core.settings import Settings
from core.store.client import open_client
from core.store.run_record import RunRecord, fetch_run_record


@dataclass(frozen=True)
class WrittenPack:
    """Where the pack was written, its sha256, and the PDF (None when not asked for)."""

    html_path: Path
    sha256: str
    pdf_path: Path | None


def run_pack_html(
    settings: Settings,
    run_id: str,
    threshold: float | None = None,
    verification: VerificationReport | None = None,
) -> bytes:
    """The pack of a run id (opens a client and reads the run record once)."""
    client = open_client(settings.tracking_uri)
    record = fetch_run_record(client, run_id)
    pack = build_pack(settings, client, record, threshold, verification=verification)
    return render_html(pack).encode("utf-8")


def write_pack(
    settings: Settings,
    run_id: str,
    out: Path,
    pdf: Path | None = None,
    threshold: float | None = None,
    verification: VerificationReport | None = None,
) -> WrittenPack:
    """Write the HTML pack (atomically), then print the PDF; the HTML stays if printing fails."""
    content = run_pack_html(settings, run_id, threshold, verification)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(out, content)
    if pdf is not None:
        print_pdf(out, pdf, settings.chromium_path)
    return WrittenPack(out, hashlib.sha256(content).hexdigest(), pdf)


def promotion_pack(
    settings: Settings,
    client: MlflowClient,
    record: RunRecord,
    manifest: PromotionManifest,
    profile: ReferenceProfile | None,
    verification: VerificationReport | None,
) -> tuple[PromotionManifest, bytes]:
    """The pack frozen with a promotion, and the manifest that records its sha256."""
    pack = build_pack(
        settings,
        client,
        record,
        manifest.threshold,
        pending=manifest,
        profile=profile,
        verification=verification,
    )
    content = render_html(pack).encode("utf-8")
    sha256 = hashlib.sha256(content).hexdigest()
    return manifest.model_copy(update={"evidence_pack_sha256": sha256}), content
