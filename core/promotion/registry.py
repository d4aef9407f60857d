"""Mirror the manifest in the MLflow registry: a model version, the champion alias, tags."""

from __future__ import annotations

from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from core.errors import GovernanceError
from core.record.manifest import CHAMPION_ALIAS, PromotionManifest, RegistryRecord
from core.settings import store_kind

THRESHOLD_TAG = "governance.threshold"
LEDGER_HASH_TAG = "governance.ledger_entry_hash"


class RegistryError(GovernanceError):
    """The MLflow registry refused a step of the promotion."""


def supports_registry(tracking_uri: str) -> bool:
    """True for sqlite and server stores; the legacy file store has no model registry."""
    return store_kind(tracking_uri) != "file"


def skipped_note(tracking_uri: str) -> str:
    """Why the registry step was skipped on this store (empty when it was not)."""
    if supports_registry(tracking_uri):
        return ""
    return (
        "Registry step skipped: the file store has no MLflow model registry "
        "(move the store to SQLite or a tracking server to get the 'champion' alias)."
    )


def registry_client(tracking_uri: str) -> MlflowClient:
    """A client whose registry is the tracking store itself."""
    return MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)


def _fail(step: str, exc: MlflowException) -> RegistryError:
    """A RegistryError naming the step."""
    return RegistryError(
        f"The MLflow registry refused to {step} ({exc.message.splitlines()[0][:200]}).",
        fix="Check that the store is reachable and writable, then promote again.",
    )


def prepare_version(
    client: MlflowClient, name: str, run_id: str, model_source: str, model_id: str | None
) -> RegistryRecord:
    """The registered version of the run's model under name, created when it has none yet.

    The source is the model's artifact location, not models:/<id>: a sqlite store resolves
    models:/ URIs through MLflow's global tracking URI, which may point at another store.
    """
    try:
        try:
            client.create_registered_model(name)
        except MlflowException as exc:
            if exc.error_code not in ("RESOURCE_ALREADY_EXISTS", "ALREADY_EXISTS"):
                raise
        existing = client.search_model_versions(f"name='{name}' and run_id='{run_id}'")
        if existing:
            version = max(existing, key=lambda v: int(v.version))
        else:
            version = client.create_model_version(
                name, source=model_source, run_id=run_id, model_id=model_id
            )
    except MlflowException as exc:
        raise _fail(f"register run {run_id} as '{name}'", exc) from exc
    return RegistryRecord(name=name, version=str(version.version))


def mark_champion(
    client: MlflowClient, record: RegistryRecord, threshold: float, entry_hash: str
) -> None:
    """Point the champion alias at the version and tag it with the threshold and ledger hash."""
    try:
        client.set_model_version_tag(record.name, record.version, THRESHOLD_TAG, str(threshold))
        client.set_model_version_tag(record.name, record.version, LEDGER_HASH_TAG, entry_hash)
        client.set_registered_model_alias(record.name, record.alias, record.version)
    except MlflowException as exc:
        raise _fail(
            f"set the '{record.alias}' alias on {record.name} v{record.version}", exc
        ) from exc


def registry_problems(client: MlflowClient, manifest: PromotionManifest) -> list[str]:
    """How the registry disagrees with the manifest (empty when they agree)."""
    record = manifest.registry
    if record is None:
        return []
    try:
        version = client.get_model_version_by_alias(record.name, CHAMPION_ALIAS)
    except MlflowException as exc:
        return [f"alias '{CHAMPION_ALIAS}' of '{record.name}' unreadable ({exc.message[:120]})"]
    problems = []
    if str(version.version) != record.version:
        problems.append(
            f"alias '{CHAMPION_ALIAS}' points at v{version.version}, "
            f"the manifest says v{record.version}"
        )
    if version.run_id != manifest.run_id:
        problems.append(
            f"registry champion is run {version.run_id}, manifest says {manifest.run_id}"
        )
    tags = version.tags or {}
    if tags.get(THRESHOLD_TAG) != str(manifest.threshold):
        problems.append(
            f"registry threshold tag {tags.get(THRESHOLD_TAG)!r}, "
            f"the manifest says {manifest.threshold}"
        )
    if tags.get(LEDGER_HASH_TAG) != manifest.ledger_entry_hash:
        problems.append("registry ledger-hash tag differs from the manifest's")
    return problems
