"""Face detection with landmarks (``face-detect-dlib``, ``face-detect-insightface``)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import ClassVar

from models.base import Model, ModelCard
from models.evidence import Evidence, ModelRef
from models.face import backends, insightface_backend
from models.face.types import DetectInput, DetectOutput
from models.imageio import check_array
from models.registry import register_model


class FaceDetect(Model[DetectInput, DetectOutput]):
    """Find every face in an image, largest first, with box, confidence and landmarks."""

    backend: ClassVar[str]
    input_type = DetectInput
    output_type = DetectOutput

    def default_path(self) -> Path:
        return backends.default_dir(self.backend)

    def default_card(self, path: Path) -> ModelCard:
        return backends.card_for(name=self.name, task="face-detect", backend=self.backend, path=path,
                                 config=self.config)

    def load(self, path: str | Path) -> None:
        card = self.resolve_card(path)
        self.faces = backends.open_backend(self.backend, "face-detect", Path(path), self.config)
        self.card = card

    def predict(self, inp: DetectInput) -> DetectOutput:
        image = check_array(inp.image)
        t0 = time.perf_counter()
        faces = self.faces.detect(image)
        ms = (time.perf_counter() - t0) * 1000
        return DetectOutput(
            faces=faces, image_width=image.shape[1], image_height=image.shape[0],
            evidence=Evidence(models=[ModelRef.of(self.card)], scores={"face_count": len(faces)},
                              reasons=[f"{len(faces)} face(s) found"], timings_ms={"detect": round(ms, 2)}),
        )


@register_model
class DlibFaceDetect(FaceDetect):
    name = "face-detect-dlib"
    backend = "dlib"


@register_model
class InsightFaceDetect(FaceDetect):
    name = "face-detect-insightface"
    backend = "insightface"
    missing_hint = insightface_backend.MISSING_HINT
