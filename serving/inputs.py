"""Reading request bodies: multipart file fields or JSON with ``<field>_b64`` values (API.md)."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from models.errors import InvalidInput, PayloadTooLarge
from models.imageio import decode_base64


async def read_files(request: Request, names: list[str], *, optional: tuple[str, ...] = (),
                     max_file_bytes: int) -> tuple[dict[str, bytes], dict[str, Any]]:
    """Return ``(files, params)``: the named file fields as bytes, and any other plain values sent.

    Raises :class:`InvalidInput` for an unsupported content type, malformed JSON or missing fields.
    """
    ctype = request.headers.get("content-type", "")
    files: dict[str, bytes] = {}
    params: dict[str, Any] = {}
    wanted = set(names) | set(optional)
    if ctype.startswith("multipart/form-data"):
        form = await request.form(max_files=8, max_fields=32)
        for key, value in form.multi_items():
            if hasattr(value, "read"):
                if key not in wanted:
                    params.setdefault("_unknown_files", []).append(key)
                    continue
                if value.size is not None and value.size > max_file_bytes:
                    raise PayloadTooLarge(f"{key}: {value.size} bytes exceeds the limit of {max_file_bytes} bytes")
                files[key] = await value.read()
            else:
                params[key] = value
    elif ctype.startswith("application/json"):
        try:
            body = json.loads(await request.body())
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidInput("request body is not valid JSON", code="invalid_json") from exc
        if not isinstance(body, dict):
            raise InvalidInput("JSON body must be an object", code="invalid_json")
        for key, value in body.items():
            if key.endswith("_b64") and key[:-4] in wanted:
                files[key[:-4]] = decode_base64(value, field=key[:-4])
            else:
                params[key] = value
    else:
        raise InvalidInput(
            f"unsupported content type {ctype or '(none)'!r}: send multipart/form-data with file field(s) "
            f"{', '.join(names)} or application/json with {', '.join(n + '_b64' for n in names)}"
        )
    missing = [n for n in names if n not in files]
    if missing:
        unknown = params.pop("_unknown_files", [])
        got = sorted(set(files) | set(params) | set(unknown))
        raise InvalidInput(
            f"missing field(s): {', '.join(missing)} (file upload) or {', '.join(m + '_b64' for m in missing)} "
            f"(JSON); received: {', '.join(got) or 'nothing'}"
        )
    for key, data in files.items():
        if len(data) > max_file_bytes:
            raise PayloadTooLarge(f"{key}: {len(data)} bytes exceeds the limit of {max_file_bytes} bytes")
    params.pop("_unknown_files", None)
    return files, params
