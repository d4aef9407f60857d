"""Test suite for the credit-risk model-governance dashboard."""
