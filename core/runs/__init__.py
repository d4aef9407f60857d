"""Runs analysis.

Filters and the runs table view (analysis), the page's ranking/columns/selection decisions
(views), CV stability judged against sampling noise (fold_noise, stability), the recommended
run and the one default-run rule every page opens on (default_run).
"""
