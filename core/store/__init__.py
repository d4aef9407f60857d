"""Store access.

Everything that talks to MLflow. An explicit client per tracking URI, the runs table (read
straight from file and SQLite stores where MLflow is slow), CV folds in any of the three logging
conventions, the one run record, models, validation sets and the registry.
"""
