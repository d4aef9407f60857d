"""What-if scoring: the applicant form, its score and explanation, what changed, counterfactuals."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd
import streamlit as st

from core.charts.whatif import moved_contributions_figure, waterfall_figure
from core.errors import DataValidationError
from core.scoring.counterfactual import CounterfactualResult, find_counterfactuals
from core.scoring.feature_policy import FeaturePolicy
from core.scoring.model_spec import FeatureSpec, LoadedModel, ModelSpec
from core.scoring.reason_codes import ReasonCodeBook
from core.scoring.scorer import DECLINE, ScoringResult, compare_applicants, scorer_for
from ui import cache_whatif
from ui.context import show_error
from ui.markdown_text import literal

FIELD_PREFIX = "whatif_f_"
BASE_KEY = "_whatif_base_key"
MISSING_OPTION = "(missing)"
FORM_COLUMNS = 3
MOVED_IN_CHART = 8
# Redrawn on every edit: a static plot draws no hover layers, drag handles or mode bar.
STATIC_CHART = {"staticPlot": True}


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


def load_applicant_into_form(spec: ModelSpec, applicant: pd.DataFrame, key: str) -> None:
    """Fill the form with an applicant's values when the picked applicant changed."""
    if st.session_state.get(BASE_KEY) == key:
        return
    row = applicant.iloc[0]
    for feature in spec.features:
        value = row[feature.name]
        if feature.is_categorical:
            text = MISSING_OPTION if pd.isna(value) else str(value)
            st.session_state[field_key(feature.name)] = text
        else:
            st.session_state[field_key(feature.name)] = _as_text(value)
    st.session_state[BASE_KEY] = key


def _monotone_note(feature: FeatureSpec) -> tuple[str, str]:
    """A label suffix and a help sentence for a monotone feature."""
    if feature.monotone > 0:
        return " ↑", "Monotone: the risk never falls when this value rises."
    if feature.monotone < 0:
        return " ↓", "Monotone: the risk never rises when this value rises."
    return "", ""


def _feature_input(feature: FeatureSpec) -> object:
    """One input: a selectbox of the model's categories, or a text field for a number."""
    marker, note = _monotone_note(feature)
    if feature.is_categorical:
        options = [MISSING_OPTION, *(str(c) for c in feature.categories)]
        if st.session_state.get(field_key(feature.name)) not in options:
            st.session_state[field_key(feature.name)] = MISSING_OPTION
        value = st.selectbox(
            literal(feature.name),
            options,
            key=field_key(feature.name),
            help="The model's own categories.",
        )
        return None if value == MISSING_OPTION else value
    span = f"{feature.low:g} – {feature.high:g}" if feature.has_range else "unknown"
    return st.text_input(
        f"{literal(feature.name)}{marker}  ·  range {span}",
        key=field_key(feature.name),
        placeholder="missing",
        help=f"Training range {span}. Leave empty for a missing value. {note}".strip(),
    )


def _edited_applicant(spec: ModelSpec) -> pd.DataFrame:
    """The form as a one-row frame of raw inputs (text for numbers, category names)."""
    columns = st.columns(FORM_COLUMNS)
    values: dict[str, object] = {}
    for i, feature in enumerate(spec.features):
        with columns[i % FORM_COLUMNS]:
            values[feature.name] = _feature_input(feature)
    st.caption(
        "↑ / ↓: monotone features (the model's risk only rises / only falls as the value rises). "
        "Ranges are those seen in training; leave a number empty to score it as missing."
    )
    return pd.DataFrame([values], columns=spec.names, dtype=object)


def _input_notes(result: ScoringResult, spec: ModelSpec) -> None:
    """Warnings for values outside the training range and notes for missing values."""
    row = result.prepared.frame.iloc[0]
    for name in result.prepared.out_of_range:
        feature = spec.feature(name)
        st.warning(
            f"{literal(name)} = {row[name]:g} is outside the training range "
            f"{feature.low:g} – {feature.high:g}: the model never saw such a value, "
            "so its score there is an extrapolation.",
            icon=":material/warning:",
        )
    if result.prepared.missing_values:
        st.caption("Scored as missing: " + ", ".join(map(literal, result.prepared.missing_values)))


def _score_panel(result: ScoringResult, original: ScoringResult | None) -> None:
    """Probability, decision, distance to the threshold and the reason codes."""
    scores = result.scores.iloc[0]
    left, middle, right = st.columns(3)
    delta = None
    moved = (
        0.0 if original is None else scores["probability"] - original.scores["probability"].iloc[0]
    )
    if abs(moved) > 1e-12:
        delta = f"{moved * 100:+.2f} pp vs original"
    label = result.output_label.capitalize()
    left.metric(label, f"{scores['probability']:.2%}", delta, delta_color="inverse")
    middle.metric("Decision", str(scores["decision"]).upper())
    right.metric(
        "Distance to threshold",
        f"{scores['distance_to_threshold'] * 100:+.2f} pp",
        help=f"{label} minus the threshold {result.threshold:.2%} "
        f"({result.threshold:.4f}), in percentage points; at or above the threshold the "
        "applicant is declined.",
    )
    if scores["decision"] == DECLINE:
        reasons = [r for r in result.reasons.iloc[0].tolist() if r]
        if reasons:
            st.markdown(
                "**Reasons for the decline**\n\n"
                + "\n".join(f"{i}. {text}" for i, text in enumerate(reasons, 1))
            )
    else:
        st.caption("Approved: no reason codes are given for an approval.")


def _what_changed(original: ScoringResult, edited: ScoringResult) -> None:
    """Original and edited applicant side by side, and the contributions that moved."""
    st.subheader("What changed")
    moved = compare_applicants(original, edited)
    if moved.empty or not moved["value_changed"].any():
        st.caption("Edit any field above to compare with the original applicant.")
        return
    before, after = original.scores.iloc[0], edited.scores.iloc[0]
    summary = pd.DataFrame(
        {
            "": [edited.output_label.capitalize(), "Decision", "Distance to threshold"],
            "Original": [
                f"{before['probability']:.2%}",
                before["decision"],
                f"{before['distance_to_threshold'] * 100:+.2f} pp",
            ],
            "Edited": [
                f"{after['probability']:.2%}",
                after["decision"],
                f"{after['distance_to_threshold'] * 100:+.2f} pp",
            ],
        }
    )
    # Static tables: a few rows of text redraw faster than an interactive grid on each edit.
    # The summary as wide as its text; the six columns of the moves below it, full width.
    st.table(summary.set_index(""), width="content")
    shown = moved.assign(
        original_value=moved["original_value"].map(_shown_value),
        edited_value=moved["edited_value"].map(_shown_value),
    ).drop(columns=["value_changed"])
    _numbers_table(
        shown,
        {
            "feature": ("Feature", None),
            "original_value": ("Original value", None),
            "edited_value": ("Edited value", None),
            "original": ("Original contribution", "%+.4f"),
            "edited": ("Edited contribution", "%+.4f"),
            "delta": ("Moved by", "%+.4f"),
        },
    )
    st.plotly_chart(
        moved_contributions_figure(moved.head(MOVED_IN_CHART)),
        width="stretch",
        key="whatif_moved_chart",
        config=STATIC_CHART,
    )
    if len(moved) > MOVED_IN_CHART:
        st.caption(f"The chart shows the {MOVED_IN_CHART} largest moves; the table lists all.")


def _numbers_table(frame: pd.DataFrame, formats: dict[str, tuple[str, str | None]]) -> None:
    """A static table (redrawn faster than an interactive grid on each edit): each listed
    column under a plain header and, if it has a format, its numbers as text in it."""
    columns = []
    for column, (_, fmt) in formats.items():
        values = frame[column].tolist()  # plain Python values: no pandas per cell
        if fmt:
            columns.append(["" if pd.isna(v) else fmt % v for v in values])
        else:
            columns.append([str(v) for v in values])
    rows = list(zip(*columns, strict=True))
    labels = [label for label, _ in formats.values()]
    st.table(pd.DataFrame(rows, columns=labels, dtype=object), hide_index=True)


def _shown_value(value: object) -> str:
    """A value for the comparison table."""
    if value is None or pd.isna(value):
        return "missing"
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def _apply_change(feature: str, value: object, categorical: bool) -> None:
    """Button callback: put a counterfactual value into the form."""
    st.session_state[field_key(feature)] = str(value) if categorical else _as_text(value)


def _counterfactuals(bench: Workbench, result: CounterfactualResult) -> None:
    """The smallest single-feature change that flips the decision, and the next best."""
    st.subheader("Smallest change that flips the decision")
    if not result.found:
        st.info(result.note)
        return
    best = result.changes[0]
    st.markdown(
        f"**{best.describe()}** The {scorer_for(bench.model).output_label} becomes "
        f"{best.probability:.2%} "
        f"and the decision **{best.decision}**."
    )
    st.button(
        "Apply this change to the form",
        key="whatif_apply_best",
        on_click=_apply_change,
        args=(best.feature, best.proposed, bench.spec.feature(best.feature).is_categorical),
    )
    if len(result.changes) > 1:
        st.caption(
            "Next best single-feature changes (ranked by the change as a share of the "
            "feature's training range; a category switch counts as a whole range):"
        )
    table = result.table()
    _numbers_table(
        # Shares and scores in percent with two decimals, like the rest of the page.
        table.assign(
            share_of_range=table["share_of_range"] * 100, probability=table["probability"] * 100
        ),
        {
            "feature": ("Feature", None),
            "current": ("Current", None),
            "proposed": ("Proposed", None),
            "change": ("Change", "%+.6g"),
            "share_of_range": ("Share of range", "%.2f%%"),
            "probability": ("New score", "%.2f%%"),
            "decision": ("Decision", None),
        },
    )
    st.caption(
        "Only changes inside the training range, in each monotone feature's direction and "
        "allowed by the feature policy are considered. " + result.note
    )


@st.fragment
def applicant_workbench(bench: Workbench, original_applicant: pd.DataFrame, label: str) -> None:
    """The form and everything computed from it; reruns alone while the user edits."""
    st.caption(label)
    edited_applicant = _edited_applicant(bench.spec)
    try:
        # The original does not change while the user edits: scored once per applicant.
        original = cache_whatif.applicant_score(
            bench.model,
            bench.model_uri,
            original_applicant,
            cache_whatif.applicant_key(original_applicant),
            bench.threshold,
            bench.book,
            cache_whatif.book_fingerprint(bench.book),
        )
        edited = scorer_for(bench.model).score(
            edited_applicant, bench.threshold, reason_book=bench.book
        )
    except DataValidationError as exc:
        show_error(exc)
        return
    _input_notes(edited, bench.spec)
    _score_panel(edited, original)
    contributions = edited.contributions.iloc[0]
    values = edited.prepared.frame.iloc[0]
    st.plotly_chart(
        waterfall_figure(
            contributions,
            values,
            edited.base_value,
            bench.threshold,
            score_name=edited.output_label,
            output=float(edited.scores["probability"].iloc[0]),
            threshold_raw=scorer_for(bench.model).raw_threshold(bench.threshold),
        ),
        width="stretch",
        key="whatif_waterfall",
        config=STATIC_CHART,
    )
    _what_changed(original, edited)
    counterfactual = find_counterfactuals(
        bench.model,
        edited.prepared.frame,
        bench.threshold,
        spec=bench.spec,
        steps=bench.steps,
        reference=bench.reference,
        policy=bench.policy,
    )
    _counterfactuals(bench, counterfactual)
