"""Training and registration: everything that produces model artifacts and MLflow runs."""
