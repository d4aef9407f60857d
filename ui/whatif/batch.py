"""What-if scoring: score an uploaded CSV of applicants and download decisions with reasons."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.errors import DataValidationError
from core.scoring.batch import MAX_BATCH_ROWS
from core.scoring.loaded_model import LoadedModel
from core.scoring.model_spec import ModelSpec
from core.scoring.prepare import UnseenCategoryError
from core.scoring.reason_codes import ReasonCodeBook
from ui.shared.context import show_error
from ui.shared.markdown_text import literal
from ui.whatif import cache as cached

UPLOAD_KEY = "whatif_upload"
ALLOW_UNSEEN_KEY = "whatif_allow_unseen"
PREVIEW_ROWS = 1_000


def batch_section(
    model: LoadedModel,
    model_uri: str,
    spec: ModelSpec,
    threshold: float,
    book: ReasonCodeBook,
    template: pd.DataFrame,
) -> None:
    """Upload, score and download; every bad file gets a message, never a traceback."""
    st.markdown(
        f"Upload a CSV with one row per applicant and a column per model feature "
        f"({', '.join(map(literal, spec.names))}). Other columns (ids) are carried into the "
        "results. "
        f"Up to {MAX_BATCH_ROWS:,} rows per file."
    )
    st.download_button(
        "Download a template CSV",
        template.to_csv(index=False).encode("utf-8"),
        file_name="applicants_template.csv",
        mime="text/csv",
        key="whatif_template_download",
    )
    upload = st.file_uploader("Applicants CSV", type=["csv"], key=UPLOAD_KEY)
    if upload is None:
        return
    allow_unseen = st.checkbox(
        "Score categories the model never saw as missing values",
        key=ALLOW_UNSEEN_KEY,
        help="LightGBM would silently treat them as missing; by default such files are refused.",
    )
    try:
        table, unseen, out_of_range = cached.batch_results(
            model,
            model_uri,
            upload.getvalue(),
            upload.name,
            threshold,
            allow_unseen,
            book,
            cached.book_fingerprint(book),
        )
    except UnseenCategoryError as exc:
        show_error(exc)
        st.caption("Tick the box above to score these rows with the unseen values as missing.")
        return
    except DataValidationError as exc:
        show_error(exc)
        return
    if unseen:
        listed = "; ".join(f"{literal(k)}: {', '.join(map(literal, v))}" for k, v in unseen.items())
        st.warning(
            f"Scored as missing (categories the model never saw): {listed}.",
            icon=":material/warning:",
        )
    if out_of_range:
        listed = ", ".join(f"{literal(k)} ({n} row(s))" for k, n in out_of_range.items())
        st.warning(f"Values outside the training range: {listed}.", icon=":material/warning:")
    declined = int((table["decision"] == "decline").sum())
    left, middle, right = st.columns(3)
    left.metric("Applicants scored", f"{len(table):,}")
    middle.metric("Declined", f"{declined:,}")
    right.metric("Decline rate", f"{declined / len(table):.1%}")
    st.dataframe(
        table.head(PREVIEW_ROWS), hide_index=True, width="stretch", key="whatif_batch_table"
    )
    if len(table) > PREVIEW_ROWS:
        st.caption(f"Showing the first {PREVIEW_ROWS:,} rows; the download has all of them.")
    st.download_button(
        "Download results (CSV)",
        table.to_csv(index=False).encode("utf-8"),
        file_name=f"scored_{upload.name}",
        mime="text/csv",
        key="whatif_batch_download",
    )
