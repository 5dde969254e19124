"""Liveness family: passive anti-spoofing (texture model, CNN) and challenge-response action liveness."""
