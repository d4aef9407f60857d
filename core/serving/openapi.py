"""OpenAPI request bodies for the raw-body routes, with examples built from the served model."""

from __future__ import annotations

import math
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from core.scoring.applicants import typical_applicant
from core.scoring.model_spec import ModelSpec
from core.scoring.prepare import ROW_ID_COLUMNS, spaced_names

_APPLICANT = {"type": "object", "additionalProperties": True}
APPLICANTS_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        {
                            "type": "object",
                            "required": ["applicants"],
                            "properties": {"applicants": {"type": "array", "items": _APPLICANT}},
                        },
                        _APPLICANT,
                    ]
                }
            }
        },
    }
}
INVOCATIONS_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"type": "object"}},
            "text/csv": {"schema": {"type": "string"}},
        },
    }
}
_SCORING_PATHS = ("/predict", "/explain")


def example_applicant(spec: ModelSpec) -> dict[str, object]:
    """A template applicant for the model: mid-range numbers and first categories."""
    row = typical_applicant(spec).iloc[0]
    example: dict[str, object] = {"id": "applicant-1"}
    for name, value in row.items():
        if isinstance(value, float) and math.isnan(value):
            example[str(name)] = None
        else:
            example[str(name)] = value if isinstance(value, str) else round(float(value), 4)
    return example


def names_accepted(spec: ModelSpec) -> str:
    """How applicants may name the model's features, with the training data's spellings."""
    aliases = spaced_names(spec.names)
    text = "Each applicant gives the model's features by name: " + ", ".join(
        f"`{n}`" for n in spec.names
    )
    if aliases:
        text += (
            ". LightGBM wrote the training data's spaces as underscores; either spelling is "
            "accepted ("
            + ", ".join(f"`{alias}` for `{name}`" for alias, name in aliases.items())
            + "), but not both for one applicant (422)"
        )
    ids = " or ".join(f"`{c}`" for c in ROW_ID_COLUMNS)
    return text + f". An optional id field: {ids}."


def _with_examples(schema: dict[str, Any], spec: ModelSpec) -> dict[str, Any]:
    """The schema with request examples and accepted names for the scoring routes and
    /invocations."""
    applicant = example_applicant(spec)
    features = {k: v for k, v in applicant.items() if k != "id"}
    paths = schema.get("paths", {})
    for path in (*_SCORING_PATHS, "/invocations"):
        body = paths.get(path, {}).get("post", {}).get("requestBody", {})
        if body:
            body["description"] = names_accepted(spec)
    for path in _SCORING_PATHS:
        content = paths.get(path, {}).get("post", {}).get("requestBody", {}).get("content", {})
        if "application/json" in content:
            content["application/json"]["example"] = {"applicants": [applicant]}
    content = paths.get("/invocations", {}).get("post", {}).get("requestBody", {}).get("content")
    if content:
        content["application/json"]["example"] = {
            "dataframe_split": {"columns": list(features), "data": [list(features.values())]}
        }
        header = ",".join(features)
        cells = ",".join("" if v is None else str(v) for v in features.values())
        content["text/csv"]["example"] = f"{header}\n{cells}\n"
    return schema


def install_openapi(app: FastAPI, spec_of: Any, run_id_of: Any) -> None:
    """Serve an OpenAPI schema whose examples follow the model in force (rebuilt on a swap)."""
    cache: dict[str, dict[str, Any]] = {}

    def openapi() -> dict[str, Any]:
        run_id = run_id_of()
        if run_id not in cache:
            cache.clear()
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            schema.setdefault("components", {})["securitySchemes"] = {
                "bearer": {"type": "http", "scheme": "bearer"}
            }
            schema["security"] = [{"bearer": []}]
            cache[run_id] = _with_examples(schema, spec_of())
        return cache[run_id]

    app.openapi = openapi  # type: ignore[method-assign]
