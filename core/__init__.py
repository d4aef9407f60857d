"""Core of the credit-risk model-governance dashboard: plain Python, no UI."""
