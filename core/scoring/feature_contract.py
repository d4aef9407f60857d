"""The feature contract a served model makes: names, order, types, category levels, spellings.

Promotion records it in the manifest (with its sha256) and the contract gate compares a
candidate's against it; the scoring service returns it from /version. Both build it here, from
the model's own spec, so the hash the service shows is the hash the manifest recorded.
"""

from __future__ import annotations

import hashlib
import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from core.scoring.model_spec import ModelSpec
from core.scoring.prepare import spaced_names


class ContractFeature(BaseModel):
    """One input the service accepts: its name, kind and (for a category) its levels."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    kind: Literal["numeric", "categorical"]
    levels: list[str] = Field(default_factory=list)


class FeatureContract(BaseModel):
    """Every input in model order, and the other spellings of a name the service accepts."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    features: list[ContractFeature]
    aliases: dict[str, str] = Field(default_factory=dict)

    @property
    def sha256(self) -> str:
        """The sha256 of the contract's canonical JSON (sorted keys, no whitespace)."""
        canonical = json.dumps(
            self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=True
        )
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    @property
    def names(self) -> list[str]:
        """Feature names in model order."""
        return [f.name for f in self.features]

    def describe(self) -> str:
        """'20 features (13 categorical), sha256 1a2b3c4d5e6f'."""
        categorical = sum(f.kind == "categorical" for f in self.features)
        return (
            f"{len(self.features)} features ({categorical} categorical), sha256 {self.sha256[:12]}"
        )


def contract_of(spec: ModelSpec) -> FeatureContract:
    """The contract of a model, from its spec (names, kinds, levels as text, spellings)."""
    features = [
        ContractFeature(
            name=f.name,
            kind=f.kind,
            levels=[str(level) for level in f.categories] if f.is_categorical else [],
        )
        for f in spec.features
    ]
    return FeatureContract(features=features, aliases=spaced_names(spec.names))


def _listed(values: list[str], shown: int = 5) -> str:
    """'a, b, c' with 'and N more' past `shown`."""
    more = len(values) - shown
    return ", ".join(repr(v) for v in values[:shown]) + (f" and {more} more" if more > 0 else "")


def contract_differences(served: FeatureContract, candidate: FeatureContract) -> list[str]:
    """Each way the candidate breaks the served contract, one sentence each (empty: none)."""
    theirs = {f.name: f for f in served.features}
    ours = {f.name: f for f in candidate.features}
    removed = [n for n in served.names if n not in ours]
    added = [n for n in candidate.names if n not in theirs]
    problems = []
    if removed:
        problems.append(f"removed feature(s) the service accepts: {_listed(removed)}")
    if added:
        problems.append(f"added feature(s) the contract lacks: {_listed(added)}")
    for name in (n for n in candidate.names if n in theirs):
        old, new = theirs[name], ours[name]
        if old.kind != new.kind:
            problems.append(f"{name!r} retyped from {old.kind} to {new.kind}")
            continue
        extra = [level for level in new.levels if level not in old.levels]
        lost = [level for level in old.levels if level not in new.levels]
        if extra:
            problems.append(f"{name!r} has level(s) the contract lacks: {_listed(extra)}")
        if lost:
            problems.append(f"{name!r} lacks level(s) the service accepts: {_listed(lost)}")
    shared = [n for n in served.names if n in ours]
    if shared != [n for n in candidate.names if n in theirs]:
        problems.append("the features are in another order")
    return problems
