"""OCR model preparation (no training: the recogniser is pretrained; see paddle_dirs)."""
