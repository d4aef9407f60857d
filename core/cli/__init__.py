"""The `python -m core` command line.

One subcommand per use case, on the same core functions the pages use.
"""
