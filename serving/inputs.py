"""Reading request bodies: multipart file fields or JSON with ``<field>_b64`` values (API.md)."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from models.errors import InvalidInput, PayloadTooLarge
from models.imageio import decode_base64

MAX_LIST_FILES = 64


def _check_size(key: str, size: int | None, limit: int) -> None:
    if size is not None and size > limit:
        raise PayloadTooLarge(f"{key}: {size} bytes exceeds the limit of {limit} bytes")


async def read_files(request: Request, names: list[str], *, optional: tuple[str, ...] = (),
                     multi: tuple[str, ...] = (), one_of: tuple[str, ...] = (),
                     max_file_bytes: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return ``(files, params)``: the named file fields as bytes (a list of bytes for ``multi``
    fields, sent as repeated ``name`` / ``name[]`` parts or a JSON list ``name_b64``), and any other
    plain values sent. ``names`` are required; ``optional`` and ``multi`` are not, but at least one
    field of ``one_of`` must be present.

    Raises :class:`InvalidInput` for an unsupported content type, malformed JSON or missing fields.
    """
    ctype = request.headers.get("content-type", "")
    files: dict[str, Any] = {}
    params: dict[str, Any] = {}
    unknown: list[str] = []
    wanted = set(names) | set(optional)
    if ctype.startswith("multipart/form-data"):
        form = await request.form(max_files=MAX_LIST_FILES + 8, max_fields=32)
        for key, value in form.multi_items():
            base = key[:-2] if key.endswith("[]") else key
            if not hasattr(value, "read"):
                params[key] = value
            elif base in multi:
                _check_size(key, value.size, max_file_bytes)
                files.setdefault(base, []).append(await value.read())
            elif key in wanted:
                _check_size(key, value.size, max_file_bytes)
                files[key] = await value.read()
            else:
                unknown.append(key)
    elif ctype.startswith("application/json"):
        try:
            body = json.loads(await request.body())
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidInput("request body is not valid JSON", code="invalid_json") from exc
        if not isinstance(body, dict):
            raise InvalidInput("JSON body must be an object", code="invalid_json")
        for key, value in body.items():
            base = key[:-4] if key.endswith("_b64") else None
            if base in multi:
                if not isinstance(value, list):
                    raise InvalidInput(f"{key}: expected a list of base64 strings")
                files[base] = [decode_base64(v, field=f"{base}[{i}]") for i, v in enumerate(value)]
            elif base in wanted:
                files[base] = decode_base64(value, field=base)
            else:
                params[key] = value
    else:
        fields = [*names, *optional, *multi]
        raise InvalidInput(
            f"unsupported content type {ctype or '(none)'!r}: send multipart/form-data with file field(s) "
            f"{', '.join(fields)} or application/json with {', '.join(n + '_b64' for n in fields)}"
        )
    missing = [n for n in names if n not in files]
    got = ", ".join(sorted(set(files) | set(params) | set(unknown))) or "nothing"
    if missing:
        raise InvalidInput(
            f"missing field(s): {', '.join(missing)} (file upload) or {', '.join(m + '_b64' for m in missing)} "
            f"(JSON); received: {got}"
        )
    if one_of and not any(n in files for n in one_of):
        raise InvalidInput(f"send one of: {', '.join(one_of)} (file upload) or "
                           f"{', '.join(n + '_b64' for n in one_of)} (JSON); received: {got}")
    for key, data in files.items():
        items = data if isinstance(data, list) else [data]
        if len(items) > MAX_LIST_FILES:
            raise PayloadTooLarge(f"{key}: {len(items)} files exceeds the limit of {MAX_LIST_FILES}")
        for item in items:
            _check_size(key, len(item), max_file_bytes)
    return files, params
