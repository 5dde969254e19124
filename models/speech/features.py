"""Log-mel filterbank features (80 bins, 25 ms windows every 10 ms) with kaldi-native-fbank, the
front end FunASR uses too, so no torchaudio is needed anywhere."""

from __future__ import annotations

import numpy as np

from models.speech.audio import RATE

N_MELS = 80


def fbank(audio: np.ndarray) -> np.ndarray:
    """(frames, 80) float32 log-mel energies of 16 kHz mono audio in [-1, 1]."""
    import kaldi_native_fbank as knf

    opts = knf.FbankOptions()
    opts.frame_opts.samp_freq = RATE
    opts.frame_opts.dither = 0.0
    opts.frame_opts.snip_edges = False
    opts.mel_opts.num_bins = N_MELS
    computer = knf.OnlineFbank(opts)
    computer.accept_waveform(RATE, (audio * 32768.0).astype(np.float32).tolist())
    computer.input_finished()
    n = computer.num_frames_ready
    if n == 0:
        return np.zeros((0, N_MELS), np.float32)
    return np.stack([computer.get_frame(i) for i in range(n)]).astype(np.float32)
