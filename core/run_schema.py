"""What a governed run carries in MLflow: artifact paths, validation-set columns and tag names.

The one schema every layer reads (store, scoring, evaluation, monitoring, promotion) and training
writes; it imports nothing of the product, so it sits below all of them.
"""

from __future__ import annotations

VALIDATION_ARTIFACT_DIR = "validation"
VALIDATION_ARTIFACT_FILE = "validation.parquet"
VALIDATION_ARTIFACT = f"{VALIDATION_ARTIFACT_DIR}/{VALIDATION_ARTIFACT_FILE}"
LABEL_COLUMN = "label"
SCORE_COLUMN = "score"
ID_COLUMN = "row_id"
GOVERNED_TAG = "governance.schema"
GOVERNED_SCHEMA_VERSION = "1"
SCORE_SCALE_TAG = "governance.score_scale"
CODE_VERSION_TAG = "code_version"
MODEL_NAME = "model"


def model_uri(run_id: str) -> str:
    """The immutable URI of a run's model."""
    return f"runs:/{run_id}/{MODEL_NAME}"


# What training records about its own rows (core/data/training_rows.py reads and writes them).
TRAINING_ROWS_DIR = "training_rows"
TRAINING_RANGES_FILE = "feature_ranges.json"
ROW_FINGERPRINTS_FILE = "row_fingerprints.npy"
TRAINING_RANGES_ARTIFACT = f"{TRAINING_ROWS_DIR}/{TRAINING_RANGES_FILE}"
ROW_FINGERPRINTS_ARTIFACT = f"{TRAINING_ROWS_DIR}/{ROW_FINGERPRINTS_FILE}"
# The model card a run was trained under (purpose, use, known limitations), when one was given.
MODEL_CARD_DIR = "model_card"
MODEL_CARD_FILE = "model_card.toml"
MODEL_CARD_ARTIFACT = f"{MODEL_CARD_DIR}/{MODEL_CARD_FILE}"
