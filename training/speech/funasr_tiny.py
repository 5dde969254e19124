"""A tiny, randomly initialised FunASR Paraformer model directory, laid out exactly like a downloaded
``paraformer-zh`` (``config.yaml``, ``model.pt``, ``tokens.json``, ``am.mvn``).

Its weights are random, so its transcripts are meaningless; it exists so tests exercise FunASR's real
``AutoModel(model=<local dir>)`` loading, feature extraction and decoding code without any download,
and so operators can see which files a production model directory must hold.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

LFR_M, LFR_N, N_MELS = 7, 6, 80
SIZE = 32


def config(vocab: int) -> dict:
    return {
        "model": "Paraformer",
        "model_conf": {"ctc_weight": 0.0, "lsm_weight": 0.1, "length_normalized_loss": True,
                       "predictor_weight": 1.0, "predictor_bias": 1, "sampling_ratio": 0.75},
        "encoder": "SANMEncoder",
        "encoder_conf": {"output_size": SIZE, "attention_heads": 2, "linear_units": 2 * SIZE, "num_blocks": 2,
                         "dropout_rate": 0.0, "positional_dropout_rate": 0.0, "attention_dropout_rate": 0.0,
                         "input_layer": "pe", "pos_enc_class": "SinusoidalPositionEncoder",
                         "normalize_before": True, "kernel_size": 11, "sanm_shfit": 0,
                         "selfattention_layer_type": "sanm"},
        "decoder": "ParaformerSANMDecoder",
        "decoder_conf": {"attention_heads": 2, "linear_units": 2 * SIZE, "num_blocks": 1, "dropout_rate": 0.0,
                         "positional_dropout_rate": 0.0, "self_attention_dropout_rate": 0.0,
                         "src_attention_dropout_rate": 0.0, "att_layer_num": 1, "kernel_size": 11,
                         "sanm_shfit": 0},
        "predictor": "CifPredictorV2",
        "predictor_conf": {"idim": SIZE, "threshold": 1.0, "l_order": 1, "r_order": 1, "tail_threshold": 0.45},
        "frontend": "WavFrontend",
        "frontend_conf": {"fs": 16000, "window": "hamming", "n_mels": N_MELS, "frame_length": 25,
                          "frame_shift": 10, "lfr_m": LFR_M, "lfr_n": LFR_N},
        "specaug": None,
        "tokenizer": "CharTokenizer",
        "tokenizer_conf": {"unk_symbol": "<unk>", "split_with_space": True},
        "ctc_conf": {"dropout_rate": 0.0, "ctc_type": "builtin", "reduce": True, "ignore_nan_grad": True},
        "normalize": None,
        "input_size": N_MELS * LFR_M,
        "vocab_size": vocab,
    }


def _cmvn_file(dim: int) -> str:
    zeros = " ".join(["0"] * dim)
    ones = " ".join(["1"] * dim)
    return (f"<Nnet>\n<Splice> {dim} {dim}\n[ 0 ]\n<AddShift> {dim} {dim}\n<LearnRateCoef> 0 [ {zeros} ]\n"
            f"<Rescale> {dim} {dim}\n<LearnRateCoef> 0 [ {ones} ]\n</Nnet>\n")


def tiny_paraformer_dir(out: str | Path, seed: int = 0) -> Path:
    """Write the model directory and return it."""
    import funasr.models.paraformer.model  # noqa: F401  (registers Paraformer and its parts)
    import torch
    from funasr.register import tables

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tokens = ["<blank>", "<s>", "</s>", *list("是的对确认我同意本人自愿清楚明白不零一二三四五六七八九"), "<unk>"]
    cfg = config(len(tokens))
    torch.manual_seed(seed)
    cls = tables.model_classes["Paraformer"]
    kwargs = {k: v for k, v in cfg.items() if k not in ("model", "model_conf", "frontend", "frontend_conf",
                                                        "tokenizer", "tokenizer_conf")}
    model = cls(**kwargs, **cfg["model_conf"])
    torch.save(model.state_dict(), out / "model.pt")
    (out / "config.yaml").write_text(yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False), encoding="utf-8")
    (out / "tokens.json").write_text(json.dumps(tokens, ensure_ascii=False), encoding="utf-8")
    (out / "am.mvn").write_text(_cmvn_file(N_MELS * LFR_M), encoding="utf-8")
    return out
