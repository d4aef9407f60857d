"""Model diagnostics' sections: evaluation data, threshold workbench, comparison, fairness."""
