"""Signing (seed 8.5): SM2 signatures with SM3 (GB/T 32918, 32905), SM4 encryption (GB/T 32907), a keystore
whose private keys never leave it, e-seals, a local timestamp authority and signed e-documents.

``sm`` wraps gmssl's SM2 with the pitfalls of DESIGN.md §4 fixed, and uses ``cryptography`` for SM3/SM4.
"""
