"""Layering rules from DESIGN.md / STYLE.md, checked on the source and in fresh interpreters."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _imports(package: str) -> set[str]:
    found = set()
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module.split(".")[0])
    return found


def test_workflow_never_imports_models():
    assert "models" not in _imports("workflow")


def test_models_import_no_serving_training_mlflow_or_ray():
    assert not _imports("models") & {"serving", "training", "mlflow", "ray", "fastapi"}


def test_library_code_has_no_print_calls():
    for package in ("models", "serving", "training", "evaluation", "explain", "workflow"):
        for path in (ROOT / package).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "print"]
            assert not calls, path


BLOCKER = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in {blocked!r}:
            raise ImportError('blocked for this test: ' + name)
sys.meta_path.insert(0, Block())
"""


def test_core_works_without_optional_extras():
    """insightface, onnx, rapidocr, paddle and funasr are extras: the default face models run without them."""
    code = BLOCKER.format(blocked={"insightface", "onnx", "rapidocr", "paddleocr", "paddle", "funasr"}) + """
import numpy as np
from models.registry import create_model, list_models
assert 'face-match-insightface' in list_models()
m = create_model('face-match-dlib')
from models.errors import ModelLoadError
import tempfile, pathlib
pack = pathlib.Path(tempfile.mkdtemp())
(pack / 'det_10g.onnx').write_bytes(b'placeholder')
try:
    create_model('face-detect-insightface', pack)
except ModelLoadError as e:
    assert 'insightface' in str(e), e
else:
    raise SystemExit('insightface backend loaded without insightface')
print('ok')
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_importing_models_is_light():
    code = "import sys, models.registry; models.registry.list_models(); " \
           "print(sorted(m for m in ('torch','ray','mlflow','dlib','insightface','onnxruntime') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
