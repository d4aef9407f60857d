"""Training.

Fit LightGBM default models with cross-validation and log each as a governed MLflow run (params,
fold metrics, model, validation set, figures).
"""
