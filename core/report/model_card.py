"""The editable model card (core/config/model_card.toml): owner, intended use, out-of-scope uses."""

from __future__ import annotations

import tempfile
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path

from mlflow.tracking import MlflowClient

from core.errors import SettingsError
from core.run_schema import MODEL_CARD_ARTIFACT
from core.store.artifacts import optional_artifact

NO_CARD = (
    "No model card was written for this run: its purpose, intended use and known limitations "
    "are not recorded."
)


@dataclass(frozen=True)
class ModelCard:
    """Purpose and use as the model owner wrote it, and their known limitations."""

    name: str = ""
    owner: str = ""
    intended_use: str = ""
    out_of_scope: tuple[str, ...] = ()
    limitations: tuple[str, ...] = ()
    source: str = ""

    @property
    def is_empty(self) -> bool:
        """True when the card says nothing about purpose and use."""
        return not (self.owner or self.intended_use or self.out_of_scope)


def _texts(value: object, key: str, path: Path) -> tuple[str, ...]:
    """A list of strings from the card, or SettingsError naming the key."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise SettingsError(
        f"'{key}' in the model card {path} is not a list of texts.",
        fix=f'Write it as {key} = ["first", "second"].',
    )


def load_model_card(path: Path) -> ModelCard:
    """Read the model card; an absent file gives an empty card (the pack says so)."""
    if not path.is_file():
        return ModelCard()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(
            f"The model card {path} cannot be read ({exc}).",
            fix="Fix its TOML syntax (see core/config/model_card.toml) or set MODEL_CARD_FILE.",
        ) from exc
    model = raw.get("model", {})
    limitations = raw.get("limitations", {})
    return ModelCard(
        name=str(model.get("name", "")),
        owner=str(model.get("owner", "")),
        intended_use=str(model.get("intended_use", "")).strip(),
        out_of_scope=_texts(model.get("out_of_scope"), "out_of_scope", path),
        limitations=_texts(limitations.get("notes"), "notes", path),
        source=str(path),
    )


def run_model_card(client: MlflowClient, run_id: str) -> ModelCard | None:
    """The model card logged with the run (model_card/model_card.toml), or None without one."""
    with tempfile.TemporaryDirectory() as tmp:
        local = optional_artifact(client, run_id, MODEL_CARD_ARTIFACT, tmp)
        if local is None:
            return None
        card = load_model_card(local)
    return replace(card, source=f"the model card logged with run {run_id}")
