"""MLflow pyfunc flavour of a Veriserve model, so ``mlflow.pyfunc.load_model`` works on any version.

Input: a DataFrame whose columns are the model's image fields suffixed ``_b64`` (base64 bytes),
one row per request; output: one JSON-ready dict per row (the typed result).
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
        fields = [f for f in self.model.input_type.model_fields]
        rows = model_input.to_dict(orient="records")
        out = []
        for row in rows:
            missing = [f"{f}_b64" for f in fields if f"{f}_b64" not in row]
            if missing:
                raise InvalidInput(f"missing column(s): {', '.join(missing)}")
            images = {f: decode_image(decode_base64(row[f"{f}_b64"], field=f), field=f) for f in fields}
            inp = self.model.input_type(**images)
            out.append(self.model.predict(inp).model_dump(mode="json"))
        return out


# Models-from-code: MLflow copies this file into each logged model and loads the object set here.
mlflow.models.set_model(VeriservePyfunc())
