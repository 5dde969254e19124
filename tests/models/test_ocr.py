"""Document OCR on rendered documents: every type read back field by field, checks that flag (never
correct) bad identifiers, rotation and perspective, capture warnings, and the loaders' error paths."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from evaluation.documents.render import RENDERERS, font, render, retype
from models.errors import InvalidInput, ModelLoadError
from models.ocr import engines
from models.ocr.types import DOC_TYPES, OcrInput
from models.registry import create_model


@pytest.fixture(scope="module")
def ocr():
    return create_model("ocr-rapidocr", threads=2)


def _seed_without(doc_type: str, group: str = "rare_char") -> int:
    """A seed whose document has no characters outside the recogniser's reach (measured separately)."""
    return next(s for s in range(50) if group not in render(doc_type, s, captured=False).groups)


def _assert_fields(out, truth: dict[str, str]) -> None:
    for name, value in truth.items():
        if name.startswith("mrz_"):
            continue
        f = out.fields[name]
        assert (f.value, f.valid) == (value, True), (out.doc_type, name, value, f)


def test_bundled_models_pinned_and_card_complete(ocr):
    card = ocr.card
    assert card.family == "ocr" and card.commercial_use and "Apache-2.0" in card.licence
    assert {w.path for w in card.weights} == {engines.DET, engines.REC, engines.CLS}
    assert all(len(w.sha256) == 64 and len(w.sm3) == 64 for w in card.weights)


def test_tampered_or_missing_model_files_refuse_to_load(tmp_path):
    src = engines.wheel_models_dir()
    for name in (engines.DET, engines.REC, engines.CLS):
        shutil.copy(src / name, tmp_path / name)
    with open(tmp_path / engines.CLS, "r+b") as fh:
        fh.seek(1000)
        byte = fh.read(1)
        fh.seek(1000)
        fh.write(bytes([byte[0] ^ 1]))
    with pytest.raises(ModelLoadError, match="does not match its card"):
        create_model("ocr-rapidocr", tmp_path)
    missing = tmp_path / "nowhere"
    with pytest.raises(ModelLoadError, match=str(missing)):
        create_model("ocr-rapidocr", missing)


def test_paddle_loader_names_the_missing_directory(tmp_path):
    with pytest.raises(ModelLoadError, match=str(tmp_path / "det")):
        create_model("ocr-paddle", tmp_path)
    (tmp_path / "det").mkdir()
    (tmp_path / "rec").mkdir()
    (tmp_path / "det" / "inference.onnx").write_bytes(b"x")
    (tmp_path / "rec" / "inference.onnx").write_bytes(b"x")
    with pytest.raises(ModelLoadError, match="no inference.yml"):
        create_model("ocr-paddle", tmp_path)


@pytest.mark.parametrize("doc_type", DOC_TYPES)
def test_every_document_type_reads_back_field_by_field(ocr, doc_type):
    sample = render(doc_type, _seed_without(doc_type), perspective=0.04, blur=0.0, noise=2.0, jpeg=90)
    out = ocr.predict(OcrInput(image=sample.image, doc_type=doc_type))
    assert out.doc_type == doc_type and not out.classified and out.checks.localised
    _assert_fields(out, sample.truth)
    assert set(out.fields) >= set(k for k in sample.truth if not k.startswith("mrz_"))


@pytest.mark.parametrize("doc_type", ["id_card_front", "id_card_back", "bank_card", "passport", "vat_invoice",
                                      "household_register", "driving_licence", "bank_bill"])
def test_auto_classifies_the_document_type(ocr, doc_type):
    sample = render(doc_type, 100 + _seed_without(doc_type), perspective=0.03, blur=0.0, noise=0.0)
    out = ocr.predict(OcrInput(image=sample.image, doc_type="auto"))
    assert (out.doc_type, out.classified) == (doc_type, True)
    assert out.evidence.scores[f"class.{doc_type}"] > 0


@pytest.mark.parametrize("angle", [90, 180, 270])
def test_rotated_and_perspective_warped_cards_are_parsed(ocr, angle):
    seed = _seed_without("id_card_front")
    sample = render("id_card_front", seed, rotate=angle, perspective=0.06, blur=0.0, noise=2.0)
    out = ocr.predict(OcrInput(image=sample.image, doc_type="id_card_front"))
    assert (angle + out.checks.orientation) % 360 == 0
    _assert_fields(out, sample.truth)


def test_a_forged_id_number_is_flagged_not_corrected(ocr):
    sample = render("id_card_front", _seed_without("id_card_front"), captured=False)
    number = sample.truth["id_number"]
    wrong = number[:-1] + ("0" if number[-1] != "0" else "1")
    forged = retype(sample.image, (288, 430, 820, 480), wrong)
    out = ocr.predict(OcrInput(image=forged, doc_type="id_card_front"))
    f = out.fields["id_number"]
    assert f.value == wrong and not f.valid and "check character" in f.reason
    # the sex and birth date are then not confirmed by the number, but still read
    assert out.fields["name"].valid


def test_a_bank_card_number_failing_luhn_is_flagged(ocr):
    sample = render("bank_card", 3, captured=False)
    number = sample.truth["card_number"]
    wrong = number[:-1] + str((int(number[-1]) + 1) % 10)
    grouped = " ".join(wrong[i:i + 4] for i in range(0, len(wrong), 4)) if len(wrong) == 16 else \
        f"{wrong[:6]} {wrong[6:]}"
    forged = retype(sample.image, (55, 295, 840, 355), grouped, size=46)
    out = ocr.predict(OcrInput(image=forged, doc_type="bank_card"))
    assert out.fields["card_number"].value == wrong and not out.fields["card_number"].valid
    assert "Luhn" in out.fields["card_number"].reason
    assert out.fields["issuer"].valid and out.fields["issuer"].value == sample.truth["issuer"]


def test_icao_specimen_mrz_read_from_an_image(ocr):
    from PIL import Image, ImageDraw

    line1 = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<"
    line2 = "L898902C36UTO7408122F1204159ZE184226B<<<<<10"
    img = Image.new("RGB", (1200, 300), (235, 235, 240))
    draw = ImageDraw.Draw(img)
    draw.text((40, 80), line1, font=font("mono", 36), fill=(20, 20, 20))
    draw.text((40, 160), line2, font=font("mono", 36), fill=(20, 20, 20))
    out = ocr.predict(OcrInput(image=np.asarray(img), doc_type="passport"))
    got = {k: (f.value, f.valid) for k, f in out.fields.items()}
    assert got["passport_number"] == ("L898902C3", True)
    assert got["surname"] == ("ERIKSSON", True) and got["given_names"] == ("ANNA MARIA", True)
    assert got["nationality"] == ("UTO", True) and got["sex"] == ("F", True)
    assert got["birth_date"] == ("1974-08-12", True) and got["expiry_date"] == ("2012-04-15", True)
    assert out.fields["mrz"].valid


def test_a_photo_without_text_is_an_empty_valid_response(ocr):
    from skimage import data

    out = ocr.predict(OcrInput(image=data.coffee(), doc_type="auto"))
    assert out.doc_type == "unknown" and out.fields == {} and out.lines == []
    assert "no text found" in out.checks.warnings
    typed = ocr.predict(OcrInput(image=data.coffee(), doc_type="id_card_front"))
    assert all(not f.valid and "not found" in f.reason for f in typed.fields.values())


def test_blur_and_glare_are_reported(ocr):
    sharp = render("bank_card", 5, perspective=0.0, blur=0.0, noise=0.0)
    blurred = render("bank_card", 5, perspective=0.0, blur=3.0, noise=0.0)
    glared = render("bank_card", 5, perspective=0.0, blur=0.0, noise=0.0, glare=True)
    out_sharp, out_blur, out_glare = (ocr.predict(OcrInput(image=s.image, doc_type="bank_card"))
                                      for s in (sharp, blurred, glared))
    assert not any(w.startswith(("blurry", "glare")) for w in out_sharp.checks.warnings)
    assert out_blur.checks.sharpness < out_sharp.checks.sharpness / 3
    assert any(w.startswith("blurry") for w in out_blur.checks.warnings)
    assert out_glare.checks.glare_fraction > 0.02
    assert any(w.startswith("glare") for w in out_glare.checks.warnings)


def test_unknown_doc_type_and_bad_arrays_are_invalid_input(ocr):
    image = render("bank_card", 1, captured=False).image
    with pytest.raises(InvalidInput, match="unknown doc_type"):
        ocr.predict(OcrInput(image=image, doc_type="library_card"))
    with pytest.raises(InvalidInput):
        ocr.predict(OcrInput(image=np.zeros((4, 4), np.uint8)))


def test_renderer_covers_every_document_type():
    assert set(RENDERERS) == set(DOC_TYPES)


PADDLE_PY = Path(__file__).resolve().parents[2] / ".venv-paddle" / "bin" / "python"


@pytest.mark.skipif(not PADDLE_PY.exists() and not os.environ.get("CI"),
                    reason=".venv-paddle missing: run 'bash scripts/install.sh --dev'")
def test_paddleocr_loads_the_bundled_models_as_model_directories(tmp_path, ocr):
    """The real PaddleOCR 3 loading and decoding path, on the bundled ONNX models laid out as PaddleOCR
    model directories, gives the same fields as the embedded backend — with downloads made impossible."""
    from training.ocr.paddle_dirs import paddle_model_dirs

    paddle_model_dirs(tmp_path / "paddle")
    sample = render("id_card_front", _seed_without("id_card_front"), rotate=180, perspective=0.04, blur=0.0)
    image = tmp_path / "card.png"
    Image.fromarray(sample.image).save(image)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
           "HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9", "NO_PROXY": ""}
    proc = subprocess.run([str(PADDLE_PY), "-m", "tests.paddle_subprocess", str(tmp_path / "paddle"), str(image),
                           "id_card_front"], capture_output=True, text=True, env=env, timeout=300,
                          cwd=Path(__file__).resolve().parents[2])
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["backend"] == "paddleocr" and got["orientation"] == 180
    assert got["fields"] == {k: [v, True] for k, v in sample.truth.items()}
    ours = ocr.predict(OcrInput(image=sample.image, doc_type="id_card_front"))
    assert len(got["lines"]) == len(ours.lines)


def test_outline_found_where_the_document_is():
    """Localisation lands within 2.5 % of the true corners, including low-contrast cards (a dark blue
    card on a dark table differs in hue, not brightness) and rotated captures."""
    from models.ocr.document import find_outline

    for doc_type, seed, angle in [("bank_card", 2, 0), ("bank_card", 7, 90), ("id_card_front", 3, 0),
                                  ("vat_invoice", 1, 180), ("driving_licence", 5, 270), ("passport", 4, 0)]:
        sample = render(doc_type, seed, rotate=angle, perspective=0.05)
        quad = find_outline(sample.image)
        assert quad is not None, (doc_type, seed)
        truth = np.array(sample.capture["corners"])
        err = min(np.abs(np.roll(quad, k, axis=0) - truth).max() for k in range(4))
        assert err < 0.025 * max(sample.image.shape[:2]), (doc_type, seed, angle, err)
