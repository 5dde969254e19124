"""Serving: the MLflow model store, Ray Serve deployments, the FastAPI ingress and the CLI."""
