"""Promotion.

The gates, exporting a run's model with its checksum, the hash-chained ledger, the manifest (the
contract with production), atomic writes and the promote / rollback / verify use cases.
"""
