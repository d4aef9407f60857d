"""The Runs page's sections: filters, runs table, recommendation, its tabs and their cache."""
