"""Scoring.

The one Scorer (prepare -> raw score -> probability -> decision -> SHAP contributions -> reason
codes) used by every page, the promotion smoke test and the scoring service, plus the model's
input spec, counterfactuals, applicant pickers and batch scoring.
"""
