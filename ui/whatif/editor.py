"""What-if scoring: the applicant form, its score and explanation, what changed, counterfactuals."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd
import streamlit as st

from core.charts.whatif import moved_contributions, waterfall
from core.errors import DataValidationError
from core.scoring.counterfactual import CounterfactualResult, find_counterfactuals
from core.scoring.feature_policy import FeaturePolicy
from core.scoring.loaded_model import LoadedModel
from core.scoring.model_spec import FeatureSpec, ModelSpec
from core.scoring.reason_codes import ReasonCodeBook
from core.scoring.scorer import SHOWN_MOVE, ScoringResult, compare_applicants, scorer_for
from ui.shared.context import show_error
from ui.shared.markdown_text import literal
from ui.whatif import cache as cached
from ui.whatif import result as view

FIELD_PREFIX = "whatif_f_"
# The form and the result are two fragments: an edit reruns only the result (the field the user
# typed in already shows its value), so the form's inputs are not re-sent on every edit.
FORM_FRAGMENT = "whatif_form"
RESULT_FRAGMENT = "whatif_result"
BASE_KEY = "_whatif_base_key"
UNSEEN_KEY = "_whatif_unseen_levels"  # feature -> the loaded applicant's level unseen in training
MISSING_OPTION = "(missing)"
FORM_COLUMNS = 3
MOVED_IN_CHART = 8


@dataclass(frozen=True)
class Workbench:
    """Everything the form needs about the model and the run, fixed while the user edits."""

    model: LoadedModel
    model_uri: str  # names the model in cache keys
    spec: ModelSpec
    threshold: float
    book: ReasonCodeBook
    steps: dict[str, float]
    reference: pd.DataFrame
    policy: FeaturePolicy = field(default_factory=FeaturePolicy)


def field_key(feature: str) -> str:
    """The session-state key of a feature's input."""
    return FIELD_PREFIX + feature


def _as_text(value: object) -> str:
    """A numeric value as the text shown in its field ('' for missing)."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or pd.isna(value):
        return ""
    return f"{float(value):.10g}"


def _form_level(feature: FeatureSpec, value: object) -> str:
    """A category value as the form shows it: the model's level it names (matched as text, as
    the scorer matches it), else the value itself (a level unseen in training), else missing."""
    if value is None or pd.isna(value):
        return MISSING_OPTION
    text = str(value).strip()
    if not text:
        return MISSING_OPTION
    return next((str(c) for c in feature.categories if str(c) == text), text)


def load_applicant_into_form(spec: ModelSpec, applicant: pd.DataFrame, key: str) -> None:
    """Fill the form with an applicant's values when the picked applicant changed; a category
    level the model never saw is kept (the form offers it, marked) and remembered."""
    if st.session_state.get(BASE_KEY) == key:
        return
    row = applicant.iloc[0]
    unseen: dict[str, str] = {}
    for feature in spec.features:
        value = row[feature.name]
        if feature.is_categorical:
            level = _form_level(feature, value)
            if level != MISSING_OPTION and level not in map(str, feature.categories):
                unseen[feature.name] = level
            st.session_state[field_key(feature.name)] = level
        else:
            st.session_state[field_key(feature.name)] = _as_text(value)
    st.session_state[UNSEEN_KEY] = unseen
    st.session_state[BASE_KEY] = key


def _monotone_note(feature: FeatureSpec) -> tuple[str, str]:
    """A label suffix and a help sentence for a monotone feature."""
    if feature.monotone > 0:
        return " ↑", "Monotone: the risk never falls when this value rises."
    if feature.monotone < 0:
        return " ↓", "Monotone: the risk never rises when this value rises."
    return "", ""


def _rerun_result() -> None:
    """Input callback: rerun the result alone (the form keeps what the browser shows)."""
    st.rerun(scope=RESULT_FRAGMENT)


def _feature_input(feature: FeatureSpec) -> None:
    """One input: a selectbox of the model's categories, or a text field for a number."""
    marker, note = _monotone_note(feature)
    if feature.is_categorical:
        options = [MISSING_OPTION, *(str(c) for c in feature.categories)]
        unseen = st.session_state.get(UNSEEN_KEY, {}).get(feature.name)
        if unseen is not None:
            # The applicant's own level, which training never saw: scored as missing.
            options.append(unseen)
        if st.session_state.get(field_key(feature.name)) not in options:
            st.session_state[field_key(feature.name)] = MISSING_OPTION
        st.selectbox(
            literal(feature.name),
            options,
            key=field_key(feature.name),
            format_func=lambda level: f"{level} (unseen in training)" if level == unseen else level,
            help="The model's own categories"
            + (
                f", and this applicant's {literal(unseen)}, which training never saw."
                if unseen
                else "."
            ),
            on_change=_rerun_result,
        )
        return
    span = f"{feature.low:g} – {feature.high:g}" if feature.has_range else "unknown"
    st.text_input(
        f"{literal(feature.name)}{marker}  ·  range {span}",
        key=field_key(feature.name),
        placeholder="missing",
        help=f"Training range {span}. Leave empty for a missing value. {note}".strip(),
        on_change=_rerun_result,
    )


@st.fragment(key=FORM_FRAGMENT)
def applicant_form(spec: ModelSpec) -> None:
    """The applicant's inputs; an edit reruns the result fragment, not this one."""
    columns = st.columns(FORM_COLUMNS)
    for i, feature in enumerate(spec.features):
        with columns[i % FORM_COLUMNS]:
            _feature_input(feature)
    st.caption(
        "↑ / ↓: monotone features (the model's risk only rises / only falls as the value rises). "
        "Ranges are those seen in training; leave a number empty to score it as missing."
    )


def _edited_applicant(spec: ModelSpec) -> pd.DataFrame:
    """The form's values (from session state) as a one-row frame of raw inputs: text for
    numbers, category names, None for a missing category."""
    values: dict[str, object] = {}
    for feature in spec.features:
        value = st.session_state.get(field_key(feature.name))
        values[feature.name] = None if value == MISSING_OPTION else value
    return pd.DataFrame([values], columns=spec.names, dtype=object)


def _apply_change(feature: str, value: object, categorical: bool) -> None:
    """Button callback: put a counterfactual value into the form and rerun the whole page.

    A keyed rerun of the two fragments left the browser's field showing the old value, which the
    next full rerun then sent back, undoing the change (and that rerun's threshold edit with it).
    """
    st.session_state[field_key(feature)] = str(value) if categorical else _as_text(value)
    st.rerun()


def _result_html(
    bench: Workbench, original: ScoringResult, edited: ScoringResult, found: CounterfactualResult
) -> str:
    """Everything an edit changes, as one HTML block: notes, score panel and reasons, the
    waterfall, what changed (summary, moves, chart) and the counterfactuals."""
    scorer = scorer_for(bench.model)
    score = float(edited.scores["probability"].iloc[0])
    parts = [
        view.STYLE,
        '<div class="wi-result">',
        view.notes_html(edited, bench.spec),
        view.score_html(edited, original),
        view.chart_html(
            waterfall(
                edited.contributions.iloc[0],
                edited.prepared.frame.iloc[0],
                edited.base_value,
                bench.threshold,
                score_name=edited.output_label,
                output=score if scorer.calibrator is not None else None,
                threshold_raw=scorer.raw_threshold(bench.threshold),
            ),
            "waterfall",
        ),
        "<h3>What changed</h3>",
    ]
    moved = compare_applicants(original, edited, tolerance=SHOWN_MOVE)
    if moved.empty or not moved["value_changed"].any():
        parts.append(
            '<p class="wi-caption">Edit any field above to compare with the original applicant.</p>'
        )
    else:
        parts += [
            view.summary_html(original, edited),
            view.moves_html(moved),
            view.chart_html(moved_contributions(moved.head(MOVED_IN_CHART)), "moved"),
        ]
        if len(moved) > MOVED_IN_CHART:
            parts.append(
                f'<p class="wi-caption">The chart shows the {MOVED_IN_CHART} largest moves; '
                "the table lists all.</p>"
            )
    parts += [view.counterfactuals_html(found, scorer.output_label), "</div>"]
    return "".join(parts)


def applicant_workbench(bench: Workbench, original_applicant: pd.DataFrame, label: str) -> None:
    """The form, then everything computed from it; each is a fragment."""
    st.caption(label)
    applicant_form(bench.spec)
    applicant_result(bench, original_applicant)


@st.fragment(key=RESULT_FRAGMENT)
def applicant_result(bench: Workbench, original_applicant: pd.DataFrame) -> None:
    """The score of the form's applicant and everything computed from it, as one HTML block and,
    when a change flips the decision, its button; reruns alone on every edit."""
    edited_applicant = _edited_applicant(bench.spec)
    try:
        # The original does not change while the user edits: scored once per applicant.
        original = cached.applicant_score(
            bench.model,
            bench.model_uri,
            original_applicant,
            cached.applicant_key(original_applicant),
            bench.threshold,
            bench.book,
            cached.book_fingerprint(bench.book),
        )
        edited = scorer_for(bench.model).score(
            edited_applicant, bench.threshold, reason_book=bench.book
        )
    except DataValidationError as exc:
        show_error(exc)
        return
    found = find_counterfactuals(
        bench.model,
        edited.prepared.frame,
        bench.threshold,
        spec=bench.spec,
        steps=bench.steps,
        reference=bench.reference,
        policy=bench.policy,
    )
    st.html(_result_html(bench, original, edited, found))
    if found.found:
        best = found.changes[0]
        st.button(
            "Apply the smallest change to the form",
            key="whatif_apply_best",
            on_click=_apply_change,
            args=(best.feature, best.proposed, bench.spec.feature(best.feature).is_categorical),
        )
