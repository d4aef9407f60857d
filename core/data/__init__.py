"""Data.

The seeded synthetic credit book, loading a user's training file, data versions, and the one
reader of user tables (uploads and server paths).
"""
