"""The production scoring service: FastAPI on uvicorn over the promoted, verified model.

It owns the HTTP API (/predict, /explain, /invocations, /version, /health, /ready, /docs), the
model holder that verifies the export against the promotion manifest and ledger head and hot
swaps it when a promotion or rollback changes the manifest, the parsing and validation of
requests, the decision log, bearer-token auth, and an in-process server the promotion gate uses.
Scoring itself is never done here: every number comes from core.scoring.scorer.Scorer.
"""
