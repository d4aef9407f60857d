"""Feature policy: which inputs may be a reason code or a suggested change, and which way is better.

Read from a TOML file the user edits (core/config/feature_policy.toml by default):

    [features]
    personal_status_and_sex = "protected"   # never a reason code, never suggested
    credit_history_years = "immutable"      # may be a reason code, never suggested

    [features.credit_history]               # an ordered category
    kind = "ordered"
    worst_to_best = ["critical account", "delay in paying off", "paid back duly"]

    [input_justifications]                  # protected, yet allowed as a model input
    age_in_years = "empirically derived, demonstrably sound system (Reg B 1002.6(b)(2))"

Counterfactuals move an ordered category only towards the better end to get an applicant
approved (and only towards the worse end to show what would decline one). Features the file
names but a model does not use are ignored, so one file can serve several data sets. The
protected features are also the default attributes of the fair-lending check.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pandas as pd

from core.errors import GovernanceError
from core.sentence import Sentence
from core.settings import DEFAULT_FEATURE_POLICY_FILE

PolicyKind = Literal["protected", "immutable", "ordered"]
KINDS: tuple[PolicyKind, ...] = ("protected", "immutable", "ordered")
_FIX = (
    'Fix the file: a [features] table with feature = "protected" or "immutable" lines, and for '
    'an ordered category a [features.NAME] table with kind = "ordered" and worst_to_best = '
    "[the categories from worst to best]."
)
# Why a feature is held fixed, as the What-if page says it.
WHY_HELD = {
    "protected": "protected attribute: never suggested, never a reason code",
    "immutable": "cannot be changed by the applicant: never suggested",
}


class FeaturePolicyError(GovernanceError):
    """The feature-policy file cannot be read or does not follow its format."""


@dataclass(frozen=True)
class FeaturePolicy:
    """Protected and immutable features, and the worst-to-best order of ordered categories."""

    protected: tuple[str, ...] = ()
    immutable: tuple[str, ...] = ()
    ordered: dict[str, tuple[str, ...]] = field(default_factory=dict)
    source: str = "no feature policy"
    # Protected features allowed as model inputs, with the written justification for each.
    justified_inputs: dict[str, str] = field(default_factory=dict)

    def held_fixed(self, feature: str) -> bool:
        """True when counterfactuals must never suggest changing this feature."""
        return feature in self.protected or feature in self.immutable

    def protected_in(self, columns: Iterable[str]) -> list[str]:
        """The protected features among these columns, in the columns' order."""
        return [c for c in columns if c in self.protected]

    def protected_inputs_sentence(self, features: Iterable[str]) -> Sentence | None:
        """A sentence naming the protected features among a model's inputs, and whether the
        policy justifies each (the promotion gate fails on an unjustified one); None if none."""
        protected = self.protected_in(features)
        if not protected:
            return None
        parts, names = [], []
        for name in protected:
            names.append(name)
            if name in self.justified_inputs:
                parts.append(f"{{{len(names) - 1}}} (allowed by the policy: {{{len(names)}}})")
                names.append(self.justified_inputs[name])
            else:
                parts.append(
                    f"{{{len(names) - 1}}} (not justified in the policy: the promotion gate fails)"
                )
        return Sentence(
            "Protected attribute(s) used as model input: " + "; ".join(parts) + ".", *names
        )

    def allowed_categories(
        self, feature: str, current: object, categories: Iterable[object], *, better: bool
    ) -> list[object]:
        """The categories a counterfactual may move to from `current`.

        An unordered feature may move to any other category. An ordered one moves only to
        listed categories on the better side (better=True) or the worse side; from a missing
        or unlisted category it cannot move, as nobody can say which way is better.
        """
        others = [c for c in categories if pd.isna(current) or c != current]
        order = self.ordered.get(feature)
        if order is None:
            return others
        if pd.isna(current) or str(current) not in order:
            return []
        rank = order.index(str(current))
        return [c for c in others if str(c) in order and (order.index(str(c)) > rank) == better]

    def held_fixed_table(self, features: Iterable[str]) -> pd.DataFrame:
        """For the model's features: each one held fixed or ordered, and why (Feature, Rule)."""
        rows = []
        for name in features:
            if name in self.protected:
                rows.append((name, WHY_HELD["protected"]))
            elif name in self.immutable:
                rows.append((name, WHY_HELD["immutable"]))
            elif name in self.ordered:
                order = " < ".join(self.ordered[name])
                rows.append((name, f"ordered, moved only towards better: {order}"))
        return pd.DataFrame(rows, columns=["Feature", "Rule"])

    def unlisted_categories(self, feature: str, categories: Iterable[object]) -> list[str]:
        """A model's categories of an ordered feature that the order does not list."""
        order = self.ordered.get(feature)
        if order is None:
            return []
        return [str(c) for c in categories if str(c) not in order]


def _entry(name: str, value: object, where: str) -> tuple[PolicyKind, tuple[str, ...]]:
    """One [features] entry as (kind, worst-to-best order)."""
    if isinstance(value, str):
        kind, order = value.strip(), None
    elif isinstance(value, dict):
        unknown = sorted(set(value) - {"kind", "worst_to_best"})
        if unknown:
            raise FeaturePolicyError(
                f"{where}: {name} has unknown key(s) {', '.join(unknown)}.", fix=_FIX
            )
        kind, order = str(value.get("kind", "")).strip(), value.get("worst_to_best")
    else:
        raise FeaturePolicyError(f"{where}: {name} must be a kind in quotes or a table.", fix=_FIX)
    if kind not in KINDS:
        raise FeaturePolicyError(
            f"{where}: {name} has the unknown kind '{kind}' (use {', '.join(KINDS)}).", fix=_FIX
        )
    if kind != "ordered":
        if order is not None:
            raise FeaturePolicyError(
                f"{where}: {name} is {kind}, so it takes no worst_to_best list.", fix=_FIX
            )
        return kind, ()
    if (
        not isinstance(order, list)
        or len(order) < 2
        or not all(isinstance(c, str) and c.strip() for c in order)
    ):
        raise FeaturePolicyError(
            f"{where}: {name} is ordered and needs worst_to_best, a list of two or more "
            "category names.",
            fix=_FIX,
        )
    if len(set(order)) != len(order):
        raise FeaturePolicyError(f"{where}: {name} lists a category twice.", fix=_FIX)
    return kind, tuple(order)


def parse_feature_policy(text: str, source: str = "feature policy") -> FeaturePolicy:
    """Parse and validate feature-policy TOML text (FeaturePolicyError names what is wrong)."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise FeaturePolicyError(f"{source} is not valid TOML ({exc}).", fix=_FIX) from exc
    unknown = sorted(set(document) - {"features", "input_justifications"})
    if unknown:
        raise FeaturePolicyError(
            f"{source} has unknown section(s) or key(s): {', '.join(unknown)}.", fix=_FIX
        )
    table = document.get("features", {})
    if not isinstance(table, dict):
        raise FeaturePolicyError(f"{source}: [features] must be a table.", fix=_FIX)
    kinds: dict[PolicyKind, list[str]] = {kind: [] for kind in KINDS}
    ordered: dict[str, tuple[str, ...]] = {}
    for name, value in table.items():
        kind, order = _entry(str(name), value, source)
        kinds[kind].append(str(name))
        if order:
            ordered[str(name)] = order
    return FeaturePolicy(
        protected=tuple(kinds["protected"]),
        immutable=tuple(kinds["immutable"]),
        ordered=ordered,
        source=source,
        justified_inputs=_justifications(document.get("input_justifications", {}), source),
    )


def _justifications(table: object, source: str) -> dict[str, str]:
    """[input_justifications]: feature = "why this protected feature may be a model input"."""
    if not isinstance(table, dict) or not all(
        isinstance(v, str) and v.strip() for v in table.values()
    ):
        raise FeaturePolicyError(
            f'{source}: [input_justifications] must hold feature = "written justification" '
            "lines (non-empty text).",
            fix=_FIX,
        )
    return {str(name): text.strip() for name, text in table.items()}


def load_feature_policy(path: str | Path = DEFAULT_FEATURE_POLICY_FILE) -> FeaturePolicy:
    """Read the feature-policy file (settings.feature_policy_file); no policy when it is absent."""
    file = Path(path)
    if not file.exists():
        return FeaturePolicy(source=f"no feature policy ({file} not found)")
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FeaturePolicyError(f"{file} could not be read ({exc}).", fix=_FIX) from exc
    return parse_feature_policy(text, source=str(file))
