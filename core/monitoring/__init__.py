"""Monitoring: production decisions against the reference profile frozen at promotion.

decision_log reads the service's log; sources reads files and the demo and joins outcomes;
reference and profiles hold the frozen profile; periods codes months/weeks and runs; drift
counts bin indices and gives PSI with its noise level, drift_tables per period and feature;
accuracy gives AUC/KS/Gini intervals and band tests; report builds the per-period report by
run; alerts turns it into one sentence per crossed level; output writes JSON or HTML.
"""
