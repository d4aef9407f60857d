"""Streamlit helpers shared by the pages: the store context and how errors are shown."""
