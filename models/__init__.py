"""Veriserve inference models: one package per family, loaded through :mod:`models.registry`.

No Ray, MLflow or HTTP code lives here; heavy libraries are imported inside the backend that needs them.
"""
