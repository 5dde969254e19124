"""Document OCR models: ``ocr-rapidocr`` (embedded default) and ``ocr-paddle`` (PaddleOCR 3 model dirs).

``predict`` runs the whole document pipeline — localise and flatten, turn upright, read, classify
(``auto``), parse and validate fields, check the capture — and returns fields with evidence.
Field values are never logged here; callers mask numbers with :func:`models.ocr.checks.mask`.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, ClassVar

from models.base import Model, ModelCard, describe_weights
from models.errors import InvalidInput
from models.evidence import AppliedThreshold, Evidence, ModelRef
from models.imageio import check_array
from models.ocr import document, engines, parsers
from models.ocr.types import DOC_TYPES, ImageChecks, OcrInput, OcrOutput
from models.registry import register_model

PROVENANCE = ("PP-OCRv6 small text detector and recogniser and the PP-OCR mobile v2 line-orientation "
              "classifier, trained by PaddlePaddle on public and synthetic Chinese/English text; ONNX "
              "exports shipped inside the rapidocr 3.10.0 wheel. Field parsers and checks are Veriserve's.")
LIMITATIONS = [
    "characters outside the recogniser's 18.7k-character dictionary (some rare name characters) are "
    "read as a similar character: such a name still passes the format check; compare with the police record",
    "glare on white paper is not detectable by brightness",
    "layouts follow the current mainland editions of each document; older editions may miss fields",
]


class DocumentOcr(Model[OcrInput, OcrOutput]):
    """Config: ``min_sharpness`` (default 60), ``max_glare`` (0.02), ``bin_table`` (CSV path),
    ``threads`` (onnxruntime threads, 1)."""

    input_type = OcrInput
    output_type = OcrOutput

    def open_engine(self, path: Path) -> document.Engine:
        raise NotImplementedError

    def load(self, path: str | Path) -> None:
        card = self.resolve_card(path)
        self.engine = self.open_engine(Path(path))
        self.card = card

    def predict(self, inp: OcrInput) -> OcrOutput:
        if inp.doc_type != "auto" and inp.doc_type not in DOC_TYPES:
            raise InvalidInput(f"unknown doc_type {inp.doc_type!r}; expected auto or one of {', '.join(DOC_TYPES)}")
        image = check_array(inp.image)
        t0 = time.perf_counter()
        flat, localised = document.localise(image)
        t1 = time.perf_counter()
        upright, angle, lines = document.orient(self.engine, flat)
        t2 = time.perf_counter()
        h, w = upright.shape[:2]
        # one or two "characters" a quarter of the page high are a picture, not print
        lines = [ln for ln in lines if ln.height < 0.25 * h or len(ln.text.strip()) > 2]
        doc_type, classified, scores = inp.doc_type, False, {}
        if doc_type == "auto":
            found, scores = parsers.classify(lines, w / h)
            doc_type, classified = (found or "unknown"), True
        fields = parsers.parse(doc_type, lines, bin_table=self.config.get("bin_table")) if doc_type in DOC_TYPES else {}
        t3 = time.perf_counter()
        min_sharp = float(self.config.get("min_sharpness", 60.0))
        max_glare = float(self.config.get("max_glare", 0.02))
        sharp, glare = document.sharpness(upright), document.glare_fraction(upright)
        warnings = document.warnings_for(sharp, glare, localised, min_sharp, max_glare)
        if doc_type == "unknown":
            warnings.append("document type not recognised: no fields parsed" if lines else "no text found")
        invalid = [k for k, f in fields.items() if not f.valid]
        reasons = [f"{doc_type}{' (classified)' if classified else ''}: {len(fields) - len(invalid)}/{len(fields)} "
                   f"fields passed their checks" + (f"; failed: {', '.join(invalid)}" if invalid else "")]
        evidence_scores = {"lines": float(len(lines)), "sharpness": round(sharp, 1), "glare": round(glare, 4)}
        evidence_scores |= {f"class.{k}": v for k, v in scores.items() if v}
        return OcrOutput(
            doc_type=doc_type, classified=classified, fields=fields,
            lines=parsers.common.reading_order(lines),
            checks=ImageChecks(localised=localised, orientation=angle, sharpness=round(sharp, 1),
                               glare_fraction=round(glare, 4), warnings=warnings),
            evidence=Evidence(
                models=[ModelRef.of(self.card)],
                thresholds=[AppliedThreshold(name="min_sharpness", value=min_sharp, source="model config"),
                            AppliedThreshold(name="max_glare", value=max_glare, source="model config")],
                scores=evidence_scores, reasons=reasons + warnings,
                timings_ms={"localise": round((t1 - t0) * 1000, 1), "read": round((t2 - t1) * 1000, 1),
                            "parse": round((t3 - t2) * 1000, 1)},
            ),
        )


def _card(name: str, backend: str, version: str, weights, config: dict[str, Any], licence: str,
          provenance: str) -> ModelCard:
    return ModelCard(
        name=name, family="ocr", task="ocr", version=version, backend=backend, licence=licence,
        commercial_use=True, data_provenance=provenance,
        intended_use="read identity cards, travel documents, licences, bank cards and bills captured by "
                     "customers or staff into validated fields for account opening",
        preprocessing={"localise": "edge outline + perspective warp, long side 1200 px",
                       "orientation": "0/90/180/270 by recognition confidence"},
        config=dict(config), limitations=LIMITATIONS, weights=weights,
    )


@register_model
class RapidOcr(DocumentOcr):
    name: ClassVar[str] = "ocr-rapidocr"
    missing_hint = "install rapidocr==3.10.0 (its wheel carries the models) or pass a folder with the three ONNX files"

    def default_path(self) -> Path:
        return engines.wheel_models_dir()

    def default_card(self, path: Path) -> ModelCard:
        return _card(self.name, "rapidocr", "PP-OCRv6-small+rapidocr-3.10.0", list(engines.KNOWN_WEIGHTS.values()),
                     self.config, engines.LICENCE_PPOCR, PROVENANCE)

    def open_engine(self, path: Path) -> document.Engine:
        return engines.RapidOcrEngine(path, threads=int(self.config.get("threads", 1)))


@register_model
class PaddleOcr(DocumentOcr):
    """Weights: a folder with PaddleOCR 3 model directories ``det/``, ``rec/`` and optionally ``cls/``
    (names configurable through ``dirs``); config ``engine`` picks PaddleOCR's inference engine."""

    name: ClassVar[str] = "ocr-paddle"
    missing_hint = "copy the PaddleOCR model directories (det/, rec/, cls/) there"

    def _dirs(self, path: Path) -> dict[str, Path]:
        names = {"det": "det", "rec": "rec", "cls": "cls"} | dict(self.config.get("dirs", {}))
        return {role: path / sub for role, sub in names.items() if role != "cls" or (path / sub).is_dir()}

    def default_card(self, path: Path) -> ModelCard:
        from models.errors import ModelLoadError

        files = {}
        for role, d in self._dirs(path).items():
            if not d.is_dir():
                raise ModelLoadError(f"PaddleOCR {role} model directory does not exist: {d} — {self.missing_hint}; "
                                     "nothing is downloaded")
            files |= {str(f.relative_to(path)): "as supplied by the operator (PaddleOCR models: Apache-2.0)"
                      for f in sorted(d.iterdir()) if f.is_file()}
        return _card(self.name, "paddleocr", f"dirs:{path.name}", describe_weights(path, files), self.config,
                     "PaddleOCR: Apache-2.0; models as supplied", "PaddleOCR model directories supplied by the "
                     "operator; digests pinned when the card was made")

    def open_engine(self, path: Path) -> document.Engine:
        return engines.PaddleOcrEngine(self._dirs(path), engine=self.config.get("engine"),
                                       device=self.config.get("device", "cpu"))
