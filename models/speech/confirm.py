"""Answer confirmation for dual recording: recognise the answer, then decide intent or read-aloud match.

Mandarin answers go to the embedded ``asr-intent-zh`` recogniser (or FunASR when configured); English
answers to pocketsphinx — in grammar mode for intent (the answer must be one of the expected replies)
and in open mode for read-aloud. The result carries the transcript, the decision, and evidence.
"""

from __future__ import annotations

from pydantic import Field

from models.base import Record
from models.errors import InvalidInput
from models.evidence import AppliedThreshold, Evidence
from models.speech.intent import intent, match_ratio
from models.speech.types import AsrInput, AsrOutput

EN_ANSWERS = ["yes", "no", "yes i do", "no i do not", "i confirm", "i agree", "i do not agree", "i understand",
              "i do not understand", "correct", "not sure"]


class ConfirmOutput(Record):
    mode: str
    transcript: str
    intent: str | None = Field(default=None, description="affirm / deny / unclear (mode intent)")
    match_ratio: float | None = Field(default=None, description="1 - CER against expected_text (mode read_aloud)")
    passed: bool
    reason: str
    asr: AsrOutput
    evidence: Evidence


def confirm(asr_models: dict, audio, *, mode: str, lang: str, expected_text: str = "", question: str = "",
            min_confidence: float = 0.5, min_match: float = 0.8) -> ConfirmOutput:
    if mode not in ("intent", "read_aloud"):
        raise InvalidInput(f"mode {mode!r}: expected intent or read_aloud")
    if lang not in asr_models:
        raise InvalidInput(f"lang {lang!r}: expected one of {', '.join(sorted(asr_models))}")
    if mode == "read_aloud" and not expected_text.strip():
        raise InvalidInput("read_aloud needs expected_text")
    model = asr_models[lang]
    constrained = lang == "en" and mode == "intent" and getattr(model, "name", "").startswith("asr-pocketsphinx")
    out = model.predict(AsrInput(audio=audio, mode="grammar" if constrained else "open",
                                 phrases=EN_ANSWERS if constrained else []))
    confidence = float(out.evidence.scores.get("confidence", 1.0))
    thresholds = []
    if mode == "intent":
        decision, why = intent(out.text, confidence, min_confidence)
        passed, ratio = decision == "affirm", None
        thresholds.append(AppliedThreshold(name="min_confidence", value=min_confidence, source="service config"))
        reason = f"answer to {question!r}: {decision} ({why})" if question else f"{decision} ({why})"
    else:
        ratio = match_ratio(expected_text, out.text)
        decision, passed = None, ratio >= min_match
        thresholds.append(AppliedThreshold(name="min_match", value=min_match, source="service config"))
        reason = f"read-aloud match {ratio:.2f} {'≥' if passed else '<'} {min_match:.2f}"
    return ConfirmOutput(
        mode=mode, transcript=out.text, intent=decision, match_ratio=ratio, passed=passed, reason=reason, asr=out,
        evidence=Evidence(models=out.evidence.models, thresholds=thresholds,
                          scores={"asr_confidence": round(confidence, 4), **({"match_ratio": ratio} if ratio is not None
                                                                           else {})},
                          reasons=[reason], timings_ms=out.evidence.timings_ms))
