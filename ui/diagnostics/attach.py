"""Diagnostics: attach an uploaded labelled file to a run that logged no validation set."""

from __future__ import annotations

import streamlit as st

from core.data.tables import read_table_bytes
from core.errors import GovernanceError
from core.training.attach import attach_validation, content_sha256
from ui.diagnostics import cache as cached
from ui.shared import cache
from ui.shared.context import StoreContext, show_error

ATTACH_KEY = "diag_attach"
ID_KEY = "diag_attach_id"
DONE_KEY = "_diag_attached"


def offer_attach(
    context: StoreContext,
    run_id: str,
    name: str,
    content: bytes,
    label: str,
    fingerprint: str,
    *,
    attachable: bool,
) -> None:
    """A button that logs the file as the run's validation set (as attach-validation does).

    Offered only for runs without one (`attachable`); after attaching, says what was logged.
    """
    done = st.session_state.get(DONE_KEY)
    if done and done[0] == run_id:
        st.success(done[1], icon=":material/task_alt:")
        for warning in done[2]:
            st.warning(warning, icon=":material/warning:")
        return
    if not attachable:
        return
    with st.container(border=True):
        st.markdown(":material/attach_file: **Attach this file to the run as its validation set**")
        st.caption(
            "Logs this file, scored by the run's model, as the run's validation set (and "
            "val_auc / val_ks when the run lacks them), as `python -m core attach-validation` "
            "does: What-if's applicant pickers, Monitoring's reference and Promotion's approval "
            "rate then work for this run. The file's name and sha256 are tagged on the run."
        )
        columns = [c for c in cached.file_columns(name, fingerprint, content) if c != label]
        id_column = st.selectbox(
            "Applicant id column (optional)", [None, *columns], key=ID_KEY, width=420
        )
        if not st.button("Attach to this run", key=ATTACH_KEY, icon=":material/attach_file:"):
            return
    try:
        result = attach_validation(
            context.tracking_uri,
            run_id,
            read_table_bytes(name, content),
            label,
            source=name,
            sha256=content_sha256(content),
            id_column=id_column,
        )
    except GovernanceError as exc:
        show_error(exc)
        return
    cache.clear_all()
    st.session_state[DONE_KEY] = (run_id, result.summary(), result.warnings())
    st.rerun()
