"""The deployed record: the manifest in force, the hash-chained ledger, atomic writes, the
promotion state, crash repair, and verifying and loading what a promotion exported.

It sits below everything that reads the record (serving, monitoring, report, runs) and below
promotion, which writes it; it never imports any of them.
"""
