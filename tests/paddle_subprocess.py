"""Run the ``ocr-paddle`` model inside .venv-paddle (PaddleOCR 3.7 lives apart: it pins numpy<2.4).

Usage, from the repository root:
``.venv-paddle/bin/python -m tests.paddle_subprocess MODEL_DIR IMAGE DOC_TYPE``. Prints the parsed fields
and lines as JSON. Imports only the OCR family (no dlib in that environment).
"""

import json
import sys

import numpy as np
from PIL import Image

from models.ocr.model import PaddleOcr
from models.ocr.types import OcrInput

model = PaddleOcr(engine="onnxruntime")
model.load(sys.argv[1])
image = np.asarray(Image.open(sys.argv[2]).convert("RGB"))
out = model.predict(OcrInput(image=image, doc_type=sys.argv[3]))
print(json.dumps({"backend": model.card.backend, "fields": {k: [f.value, f.valid] for k, f in out.fields.items()},
                  "lines": [ln.text for ln in out.lines], "orientation": out.checks.orientation}, ensure_ascii=False))
