"""Streamlit custom components (inline html/css/js from files, no build step)."""
