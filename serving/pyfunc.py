"""MLflow pyfunc flavour of a Veriserve model, so ``mlflow.pyfunc.load_model`` works on any version.

Input: a DataFrame whose columns are the model's image fields suffixed ``_b64`` (base64 bytes) and
its other fields by name (optional when they have a default, e.g. ``doc_type``), one row per request;
output: one JSON-ready dict per row (the typed result).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mlflow.models
import mlflow.pyfunc
import pandas as pd

from models.base import CARD_FILE, ModelCard
from models.errors import InvalidInput
from models.imageio import decode_base64, decode_image


class VeriservePyfunc(mlflow.pyfunc.PythonModel):
    def load_context(self, context) -> None:
        from models.registry import create_model

        weights = Path(context.artifacts["weights"])
        card = ModelCard.from_file(weights / CARD_FILE)
        self.model = create_model(card.name, weights)

    def predict(
        self, context, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        fields = image_fields(self.model.input_type)
        others = [f for f in self.model.input_type.model_fields if f not in fields]
        rows = model_input.to_dict(orient="records")
        out = []
        for row in rows:
            missing = [f"{f}_b64" for f in fields if f"{f}_b64" not in row]
            if missing:
                raise InvalidInput(f"missing column(s): {', '.join(missing)}")
            images = {f: decode_image(decode_base64(row[f"{f}_b64"], field=f), field=f) for f in fields}
            values = {f: row[f] for f in others if f in row and row[f] is not None and not pd.isna(row[f])}
            inp = self.model.input_type(**images, **values)
            out.append(self.model.predict(inp).model_dump(mode="json"))
        return out


def image_fields(input_type) -> list[str]:
    """Fields of a model input that carry images (sent as ``<field>_b64`` columns)."""
    return [name for name, f in input_type.model_fields.items() if "ndarray" in str(f.annotation)]


# Models-from-code: MLflow copies this file into each logged model and loads the object set here.
mlflow.models.set_model(VeriservePyfunc())
