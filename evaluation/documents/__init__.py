"""Labelled synthetic documents for OCR evaluation: fake identities and a renderer per document type."""
