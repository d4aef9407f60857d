"""The promotion history for auditors: CSV or JSON, with the verification result attached."""

from __future__ import annotations

import io
import json
from typing import Literal

from core.promotion import audit
from core.record import clock, ledger
from core.record.manifest import ledger_path
from core.settings import Settings

ExportFormat = Literal["csv", "json"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = ("csv", "json")


def _full_hashes(settings: Settings) -> dict[int, tuple[str, str]]:
    """Each entry's full hash and previous hash, by entry number."""
    chain = ledger.read_chain(ledger_path(settings.promotion_manifest))
    return {e.seq: (e.hash, e.prev_hash) for e in chain.entries}


def export_history(settings: Settings, fmt: ExportFormat) -> str:
    """The whole history, oldest first, with full hashes and the verification result.

    JSON: one object with the verification checks and the entries. CSV: one row per entry;
    the columns `verified` and `verification` repeat the overall result on every row so the
    file stays self-contained in any spreadsheet.
    """
    report = audit.verify(settings)
    table = audit.history(settings).iloc[::-1].reset_index(drop=True)
    hashes = _full_hashes(settings)
    table["hash"] = [hashes[int(seq)][0] for seq in table["entry"]]
    table["prev_hash"] = [hashes[int(seq)][1] for seq in table["entry"]]
    summary = "; ".join(f"{c.name}: {'ok' if c.ok else 'FAIL'} ({c.detail})" for c in report.checks)
    if fmt == "json":
        document = {
            "ledger": str(ledger_path(settings.promotion_manifest)),
            "exported_at": clock.stamp(),
            "verification": {
                "ok": report.ok,
                "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in report.checks],
            },
            "entries": json.loads(table.to_json(orient="records")),
        }
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    table["verified"] = report.ok
    table["verification"] = summary
    buffer = io.StringIO()
    table.to_csv(buffer, index=False)
    return buffer.getvalue()
