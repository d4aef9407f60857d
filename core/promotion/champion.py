"""The slot's champion as the gates need it: its served feature contract, model and rows."""

from __future__ import annotations

from pathlib import Path

from mlflow.tracking import MlflowClient

from core.errors import GovernanceError
from core.promotion.noninferiority import ChampionSide
from core.record.export import load_export
from core.record.manifest import PromotionManifest
from core.run_schema import ID_COLUMN
from core.scoring.feature_contract import FeatureContract, contract_of
from core.scoring.loaded_model import LoadedModel
from core.scoring.model_spec import model_spec
from core.store.access import load_validation_set


def model_contract(model: LoadedModel) -> FeatureContract:
    """The feature contract a loaded model would serve."""
    return contract_of(model_spec(model.classifier))


def exported_contract(folder: Path) -> FeatureContract | None:
    """The contract of an exported model folder, or None when it does not load."""
    try:
        return model_contract(load_export(folder))
    except GovernanceError:
        return None


def _validation_ids(client: MlflowClient, run_id: str) -> frozenset[str] | None:
    """The row ids of the champion run's logged validation set (None when unavailable)."""
    try:
        frame = load_validation_set(client, run_id)
    except GovernanceError:
        return None
    return frozenset(frame[ID_COLUMN].astype("str")) if ID_COLUMN in frame else None


def slot_champion(
    manifest_path: Path, client: MlflowClient, champion: PromotionManifest | None, slot: str
) -> tuple[FeatureContract | None, ChampionSide | None]:
    """The contract the slot serves and the champion's side of the AUC gate.

    (None, None) when nothing is promoted; a side with a problem when the deploy folder serves
    another slot or the champion's export does not load (then the models are not comparable).
    """
    if champion is None:
        return None, None
    name = champion.run_name or champion.run_id
    if champion.served_slot != slot:
        problem = (
            f"the deploy folder's champion {name} serves slot {champion.served_slot!r}, "
            f"not {slot!r}"
        )
        return None, ChampionSide(name, None, problem=problem)
    try:
        model = load_export(champion.exported_model_dir(manifest_path))
    except GovernanceError as exc:
        return champion.feature_contract, ChampionSide(
            name, None, problem=f"the champion's export does not load ({exc.message})"
        )
    served = champion.feature_contract or model_contract(model)
    return served, ChampionSide(name, model, _validation_ids(client, champion.run_id))
