"""Runs analysis.

Filters and the runs table view, CV stability rules, the recommended run and the one default-run
rule every page opens on.
"""
