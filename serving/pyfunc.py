"""MLflow pyfunc flavour of a Veriserve model, so ``mlflow.pyfunc.load_model`` works on any version.

Input: a DataFrame whose columns are the model's image fields suffixed ``_b64`` (base64 bytes),
one row per request; output: one JSON-ready dict per row (the typed result).
"""

from __future__ import annotations

import base64
import binascii
from pathlib import Path
from typing import Any

import mlflow.models
import mlflow.pyfunc
import pandas as pd

from models.base import CARD_FILE, ModelCard
from models.errors import InvalidImage, InvalidInput
from models.imageio import decode_image


def decode_b64(value: str, field: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise InvalidImage(f"{field}_b64: not valid base64") from exc


class VeriservePyfunc(mlflow.pyfunc.PythonModel):
    def load_context(self, context) -> None:
        from models.registry import create_model

        weights = Path(context.artifacts["weights"])
        card = ModelCard.from_file(weights / CARD_FILE)
        self.model = create_model(card.name, weights)

    def predict(
        self, context, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        fields = [f for f in self.model.input_type.model_fields]
        rows = model_input.to_dict(orient="records")
        out = []
        for row in rows:
            missing = [f"{f}_b64" for f in fields if f"{f}_b64" not in row]
            if missing:
                raise InvalidInput(f"missing column(s): {', '.join(missing)}")
            inp = self.model.input_type(**{f: decode_image(decode_b64(row[f"{f}_b64"], f), field=f) for f in fields})
            out.append(self.model.predict(inp).model_dump(mode="json"))
        return out


# Models-from-code: MLflow copies this file into each logged model and loads the object set here.
mlflow.models.set_model(VeriservePyfunc())
