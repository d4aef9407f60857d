"""Streamlit helpers for the pages: one package per page, and ui.shared for what several use."""
