"""Compare a running scoring service's /version with the promotion manifest (verify, page)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass

import pandas as pd

from core.record.manifest import PromotionManifest

TIMEOUT_SECONDS = 3.0
_FIELDS = (
    ("run_id", "run_id"),
    ("model sha256", "model_sha256"),
    ("threshold", "threshold"),
    ("ledger entry hash", "ledger_entry_hash"),
    ("promoted at", "promoted_at"),
)


@dataclass(frozen=True)
class VersionRow:
    """One field as the manifest and the service give it."""

    field: str
    manifest: str
    service: str

    @property
    def agrees(self) -> bool:
        """True when both sides give the same value."""
        return self.manifest == self.service


@dataclass(frozen=True)
class ServiceComparison:
    """The live service's /version beside the manifest, or why it could not be read."""

    url: str
    rows: tuple[VersionRow, ...] = ()
    error: str | None = None

    @property
    def in_step(self) -> bool:
        """True when the service answered and serves exactly what the manifest names."""
        return self.error is None and all(row.agrees for row in self.rows)

    def table(self) -> pd.DataFrame:
        """field, manifest, live service, agrees: one row per compared field."""
        return pd.DataFrame(
            [
                {"field": r.field, "manifest": r.manifest, "live service": r.service,
                 "agrees": r.agrees}
                for r in self.rows
            ],
            columns=["field", "manifest", "live service", "agrees"],
        )  # fmt: skip

    @property
    def detail(self) -> str:
        """One line for verify."""
        if self.error is not None:
            return self.error
        differing = [row.field for row in self.rows if not row.agrees]
        if differing:
            return f"{self.url} serves something else than the manifest: {', '.join(differing)}"
        run = next(row.service for row in self.rows if row.field == "run_id")
        return f"{self.url} serves run {run}, in step with the manifest"


def _text(value: object) -> str:
    """A field value as comparable text."""
    if isinstance(value, float):
        return repr(value)
    return "" if value is None else str(value)


def fetch_version(url: str, token: str | None, timeout: float = TIMEOUT_SECONDS) -> dict:
    """GET {url}/version (with the bearer token when set); ValueError/OSError on failure."""
    request = urllib.request.Request(f"{url}/version")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


def compare_with_service(
    manifest: PromotionManifest | None, url: str, token: str | None
) -> ServiceComparison:
    """The service's /version beside the manifest's fields."""
    try:
        version = fetch_version(url, token)
    except urllib.error.HTTPError as exc:
        return ServiceComparison(url, error=f"{url}/version answered HTTP {exc.code}")
    except (OSError, ValueError) as exc:
        return ServiceComparison(url, error=f"the scoring service at {url} did not answer ({exc})")
    recorded: dict[str, object] = {}
    if manifest is not None:
        recorded = {
            "run_id": manifest.run_id,
            "model_sha256": manifest.exported_model_sha256,
            "threshold": float(manifest.threshold),
            "ledger_entry_hash": manifest.ledger_entry_hash,
            "promoted_at": manifest.promoted_at,
        }
    rows = tuple(
        VersionRow(label, _text(recorded.get(key)), _text(version.get(key)))
        for label, key in _FIELDS
    )
    return ServiceComparison(url, rows)
