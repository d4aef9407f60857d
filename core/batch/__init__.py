"""Portfolio scoring: a whole book through the one Scorer, on local processes or Spark."""
