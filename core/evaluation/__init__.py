"""Evaluation of a model on labelled rows.

AUC/KS/Gini, ROC and KS curves, calibration, score bands, the threshold policy, champion vs
challenger, monotonicity and global explanations.
"""
