"""Pixel heat maps for the liveness CNN (SHAP GradientExplainer on the PyTorch weights saved beside the ONNX).

The background is a handful of crops (sub-sampled), so a heat map takes about a second on a CPU.
A heat map is the sum over colour channels of the SHAP values for the "live" output: red pushes towards
live, blue towards attack.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from models.base import CARD_FILE, ModelCard
from models.errors import ModelLoadError


def load_network(path: str | Path):
    """The trained PyTorch network of a ``liveness-passive-cnn`` directory (needs ``cnn.pt``)."""
    import torch

    from training.liveness.cnn import TORCH_WEIGHTS, build

    path = Path(path)
    if not (path / TORCH_WEIGHTS).is_file():
        raise ModelLoadError(f"{path / TORCH_WEIGHTS} not found: gradient explanations need the PyTorch weights "
                             "(models trained before they were saved: retrain with 'veriserve train liveness "
                             "--model cnn')")
    card = ModelCard.from_file(path / CARD_FILE)
    net = build(card.version.split("-seed")[0])
    net.load_state_dict(torch.load(path / TORCH_WEIGHTS, map_location="cpu", weights_only=True))
    return net.eval()


def heat_maps(net, crops: list[np.ndarray], background: list[np.ndarray], *, nsamples: int = 32,
              max_background: int = 8, seed: int = 0) -> np.ndarray:
    """(N, H, W) SHAP heat maps of the live logit for ``crops`` (RGB uint8), at the network's input size."""
    import shap
    import torch

    from models.liveness.cnn import to_tensor

    rng = np.random.default_rng(seed)
    if len(background) > max_background:
        background = [background[i] for i in rng.choice(len(background), max_background, replace=False)]

    class LiveLogit(torch.nn.Module):
        def __init__(self, inner) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, x):
            return self.inner(x)[:, 1:2]

    torch.manual_seed(seed)
    explainer = shap.GradientExplainer(LiveLogit(net).eval(), torch.from_numpy(to_tensor(background)))
    values = explainer.shap_values(torch.from_numpy(to_tensor(crops)), nsamples=nsamples, rseed=seed)
    v = np.asarray(values[0] if isinstance(values, list) else values)
    if v.ndim == 5:  # (N, C, H, W, outputs)
        v = v[..., 0]
    return v.sum(axis=1)
