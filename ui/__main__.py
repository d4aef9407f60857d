"""`python -m ui [streamlit options]`: the dashboard, its imports warmed before it serves."""

from ui.shared.launcher import main

main()
