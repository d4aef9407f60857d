"""Plain-language reason codes: the features that pushed a declined applicant's risk up, in words.

The texts come from a TOML file the user edits (core/config/reason_codes.toml by default):

    [texts]
    debt_to_income = "Debt-to-income ratio too high"

    [fallback]
    text = "{feature} raised the estimated risk"   # for features without a line
    missing = "{feature} not reported"             # when the applicant left it empty

Protected features of the feature policy (core/config/feature_policy.toml) are never a reason.
"""

from __future__ import annotations

import tomllib
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from core.errors import GovernanceError
from core.scoring.feature_policy import load_feature_policy
from core.settings import DEFAULT_REASON_CODES_FILE

DEFAULT_REASON_CODES_PATH = DEFAULT_REASON_CODES_FILE
DEFAULT_FALLBACK = "{feature} raised the estimated risk"
DEFAULT_MISSING = "{feature} not reported"
DEFAULT_REASON_COUNT = 3
_FIX = (
    'Fix the file: a [texts] table of feature = "text" lines and an optional [fallback] table '
    "with text and missing (use {feature} for the feature's name)."
)


class ReasonCodesError(GovernanceError):
    """The reason-code file cannot be read or does not follow its format."""


@dataclass(frozen=True)
class ReasonCodeBook:
    """Feature-to-text mapping with fallbacks for unmapped features and missing values."""

    texts: Mapping[str, str] = field(default_factory=dict)
    fallback: str = DEFAULT_FALLBACK
    missing: str = DEFAULT_MISSING
    source: str = "built-in defaults"
    withheld: frozenset[str] = frozenset()

    def text_for(self, feature: str, value_missing: bool = False) -> str:
        """The plain-language reason for one feature (its missing-value text when empty)."""
        if value_missing:
            return _fill(self.missing, feature)
        mapped = self.texts.get(feature)
        return mapped if mapped else _fill(self.fallback, feature)

    def withholding(self, features: Iterable[str]) -> ReasonCodeBook:
        """The same book, never giving these features (the policy's protected ones) as reasons."""
        return replace(self, withheld=frozenset(features))

    def unmapped(self, features: list[str]) -> list[str]:
        """Model features the file gives no text for (they get the fallback); withheld ones
        are never a reason, so they need none."""
        return [f for f in features if f not in self.texts and f not in self.withheld]


def _fill(template: str, feature: str) -> str:
    """A template with {feature} replaced by the readable name, as a capitalised sentence."""
    text = template.replace("{feature}", feature.replace("_", " ").strip())
    return text[:1].upper() + text[1:]


def _string_table(table: object, name: str, where: str) -> dict[str, str]:
    """Validate a TOML table whose values are all non-empty strings."""
    if not isinstance(table, dict):
        raise ReasonCodesError(f"{where}: [{name}] must be a table.", fix=_FIX)
    bad = [k for k, v in table.items() if not isinstance(v, str) or not v.strip()]
    if bad:
        raise ReasonCodesError(
            f"{where}: [{name}] entries must be non-empty text; check {', '.join(bad[:5])}.",
            fix=_FIX,
        )
    return {str(k): v.strip() for k, v in table.items()}


def parse_reason_codes(text: str, source: str = "reason codes") -> ReasonCodeBook:
    """Parse and validate reason-code TOML text."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ReasonCodesError(f"{source} is not valid TOML ({exc}).", fix=_FIX) from exc
    unknown = sorted(set(document) - {"texts", "fallback"})
    if unknown:
        raise ReasonCodesError(
            f"{source} has unknown section(s) or key(s): {', '.join(unknown)}.", fix=_FIX
        )
    texts = _string_table(document.get("texts", {}), "texts", source)
    fallback = _string_table(document.get("fallback", {}), "fallback", source)
    extra = sorted(set(fallback) - {"text", "missing"})
    if extra:
        raise ReasonCodesError(
            f"{source}: [fallback] accepts only text and missing, not {', '.join(extra)}.",
            fix=_FIX,
        )
    return ReasonCodeBook(
        texts=texts,
        fallback=fallback.get("text", DEFAULT_FALLBACK),
        missing=fallback.get("missing", DEFAULT_MISSING),
        source=source,
    )


def load_reason_codes(
    path: str | Path = DEFAULT_REASON_CODES_FILE, feature_policy_file: str | Path | None = None
) -> ReasonCodeBook:
    """Read the reason-code file (settings.reason_codes_file); built-in texts when it is absent.

    With a feature-policy file, its protected features are withheld from the reasons.
    """
    file = Path(path)
    withheld = frozenset(
        load_feature_policy(feature_policy_file).protected if feature_policy_file else ()
    )
    if not file.exists():
        return ReasonCodeBook(source=f"built-in defaults ({file} not found)", withheld=withheld)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ReasonCodesError(f"{file} could not be read ({exc}).", fix=_FIX) from exc
    return parse_reason_codes(text, source=str(file)).withholding(withheld)


def top_reason_features(
    contributions: pd.DataFrame,
    n: int = DEFAULT_REASON_COUNT,
    withheld: Collection[str] = (),
) -> np.ndarray:
    """Per row, the n features with the largest positive contribution ('' where fewer exist).

    Features in `withheld` (the policy's protected ones) are never picked.
    """
    return top_reasons_of(
        contributions.to_numpy(dtype="float64"), list(contributions.columns), n, withheld
    )


def top_reasons_of(
    values: np.ndarray, names: Sequence[str], n: int = DEFAULT_REASON_COUNT,
    withheld: Collection[str] = (),
) -> np.ndarray:  # fmt: skip
    """top_reason_features of a contributions matrix whose columns are `names`."""
    values = np.asarray(values, dtype="float64")
    labels = np.asarray(list(names), dtype=object)
    if withheld:
        values = np.where(np.isin(labels, list(withheld)), -np.inf, values)
    if values.size == 0:
        return np.empty((len(values), n), dtype=object)
    width = min(n, values.shape[1])
    order = np.argsort(-values, axis=1, kind="stable")[:, :width]
    picked = np.take_along_axis(values, order, axis=1)
    chosen = np.where(picked > 0, labels[order], "")
    if width < n:
        chosen = np.hstack([chosen, np.full((len(values), n - width), "", dtype=object)])
    return chosen


def reason_table(
    contributions: pd.DataFrame,
    features: pd.DataFrame,
    declined: np.ndarray,
    book: ReasonCodeBook,
    n: int = DEFAULT_REASON_COUNT,
) -> pd.DataFrame:
    """reason_1..n texts for declined rows (empty for approved rows), indexed like the input."""
    chosen = top_reason_features(contributions, n, book.withheld)
    texts = reason_texts(
        chosen, features.isna().to_numpy(), declined, list(contributions.columns), book
    )
    columns = {f"reason_{k + 1}": texts[:, k].tolist() for k in range(chosen.shape[1])}
    return pd.DataFrame(columns, index=contributions.index, dtype="str")


def reason_texts(
    chosen: np.ndarray,
    missing: np.ndarray,
    declined: np.ndarray,
    names: Sequence[str],
    book: ReasonCodeBook,
) -> np.ndarray:
    """The texts of chosen reason features (top_reasons_of) for declined rows, '' elsewhere;
    `missing` (rows x names) says which inputs were missing, which picks the missing-value text."""
    declined = np.asarray(declined, dtype=bool)
    position = {name: j for j, name in enumerate(names)}
    cache: dict[tuple[str, bool], str] = {}
    texts = np.full(chosen.shape, "", dtype=object)
    for i, row in enumerate(chosen):
        if not declined[i]:
            continue
        for k, feature in enumerate(row):
            if not feature:
                continue
            key = (feature, bool(missing[i, position[feature]]))
            if key not in cache:
                cache[key] = book.text_for(*key)
            texts[i, k] = cache[key]
    return texts
