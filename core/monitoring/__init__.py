"""Monitoring: population drift (PSI) and recent performance of a model against its reference."""
