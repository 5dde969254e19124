"""OCR family: document text and the field parsers that validate what was read (seed clause 8.1)."""
