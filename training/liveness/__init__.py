"""Liveness training: synthetic spoof generation, dataset layouts, model training and registration."""
