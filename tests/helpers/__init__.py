"""Helpers shared by the tests: store builders, promoted states, processes, page drivers."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
