"""The ledger's head anchored in the tracking store, a second place the deploy folder's writer
cannot silently rewrite.

Each promotion or rollback tags the promoted run (and, on a registry store, the model version)
with the head's entry number and hash, and tags the run's experiment with the newest head under
a name unique to this ledger (its first entry's hash), so `promote --verify` finds the newest
anchor even after the ledger's tail was cut off and an older manifest restored. An event-only
entry (request, reject, acknowledge) is anchored where the last installing entry was, so cutting
trailing events off is caught too.
"""

from __future__ import annotations

from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from core.promotion import registry
from core.record.ledger import ChainReport, LedgerEntry
from core.record.manifest import RegistryRecord
from core.record.verification import Check

HEAD_TAG = "governance.ledger_head"
ANCHOR_CHECK = "tracking-store anchor"


def ledger_tag(first: LedgerEntry) -> str:
    """The experiment tag naming this ledger's head (keyed by its first entry's hash)."""
    return f"{HEAD_TAG}.{first.hash[:16]}"


def anchor_value(entry: LedgerEntry) -> str:
    """'seq:hash' of an entry."""
    return f"{entry.seq}:{entry.hash}"


def write_anchor(
    client: MlflowClient,
    first: LedgerEntry,
    head: LedgerEntry,
    experiment_id: str,
    run_id: str,
    registered: RegistryRecord | None,
) -> str | None:
    """Tag the experiment, the run and the registry version with the head; a warning or None."""
    value = anchor_value(head)
    try:
        client.set_experiment_tag(experiment_id, ledger_tag(first), value)
        client.set_tag(run_id, HEAD_TAG, value)
        if registered is not None:
            client.set_model_version_tag(registered.name, registered.version, HEAD_TAG, value)
    except MlflowException as exc:
        return (
            "The ledger head could not be anchored in the tracking store "
            f"({exc.message.splitlines()[0][:160]}); `promote --verify` will say so."
        )
    return None


def anchor_event(tracking_uri: str, chain: ChainReport, entry: LedgerEntry) -> str | None:
    """Tag entry, appended after chain, on the last install's experiment, run and registry
    version (where `promote --verify` looks); a warning, or None (also when nothing is installed
    yet, so there is nowhere the verifier would look)."""
    installed = chain.installed
    if installed is None:
        return None
    manifest = installed.manifest
    registered = registry.supports_registry(tracking_uri)
    return write_anchor(
        registry.registry_client(tracking_uri) if registered else MlflowClient(tracking_uri),
        chain.entries[0],
        entry,
        manifest.experiment_id,
        manifest.run_id,
        manifest.registry if registered else None,
    )


def _newest_anchor(client: MlflowClient, chain: ChainReport) -> tuple[int, str] | None:
    """The newest (seq, hash) anchored for this ledger in the experiments it promoted from."""
    tag = ledger_tag(chain.entries[0])
    found: list[tuple[int, str]] = []
    for experiment_id in {e.manifest.experiment_id for e in chain.installs}:
        try:
            value = client.get_experiment(experiment_id).tags.get(tag)
        except MlflowException:
            continue
        seq, _, digest = (value or "").partition(":")
        if seq.isdigit():
            found.append((int(seq), digest))
    return max(found) if found else None


def anchor_check(client: MlflowClient, chain: ChainReport) -> Check:
    """Compare the ledger with the head the tracking store recorded: a removed tail or a
    rewritten entry fails; a ledger never anchored (written before anchoring) warns."""
    if not chain.installs:
        return Check(ANCHOR_CHECK, True, "nothing promoted yet")
    anchored = _newest_anchor(client, chain)
    total = len(chain.entries)
    if anchored is None:
        return Check(
            ANCHOR_CHECK,
            True,
            "no ledger head is anchored in the tracking store (promotions before anchoring); "
            "the next promotion anchors it",
            warning=True,
        )
    seq, digest = anchored
    if seq > total:
        return Check(
            ANCHOR_CHECK,
            False,
            f"the tracking store anchors entry {seq} but the ledger ends at entry {total}: "
            "entries were removed (and the manifest restored?)",
        )
    if chain.entries[seq - 1].hash != digest:
        return Check(
            ANCHOR_CHECK,
            False,
            f"entry {seq} differs from the hash the tracking store anchored "
            f"({digest[:12]}…): the ledger was rewritten",
        )
    after = f"; entries {seq + 1}–{total} record events after it" if seq < total else ""
    return Check(ANCHOR_CHECK, True, f"entry {seq} matches the tracking store's anchor{after}")
