"""What berth's caller sees when a request handler fails: its message and code, never its traceback."""

from __future__ import annotations

import json
import os
import traceback
from typing import Any

#: Bounds that keep an error response small whatever the handler raised.
MAX_MESSAGE_CHARS = 4096
MAX_CODE_CHARS = 256


def debug_from_env() -> bool:
    """True when ``BERTH_WORKLOAD_DEBUG`` asks for tracebacks in error responses."""
    return os.environ.get("BERTH_WORKLOAD_DEBUG", "").strip().lower() in ("1", "true", "yes", "on")


def describe_error(err: BaseException, *, debug: bool = False) -> dict[str, Any]:
    """The ``error`` object of a response for ``err``.

    The message is ``str(err)`` (the class name when that is empty) and the code
    is ``err.code`` when it is a string. The traceback stays in the workload
    (it shows file paths and code berth's callers should not see) unless
    ``debug`` is set, for a developer's own workloads.

    Example::

        describe_error(RequestError("unknown city", code="E_CITY"))
        # {"message": "unknown city", "code": "E_CITY"}
    """
    message = str(err) or type(err).__name__
    if debug:
        message = f"{message}\n{''.join(traceback.format_exception(err)).rstrip()}"
    # A lone surrogate (from bytes decoded with "surrogateescape") has no UTF-8: replace it.
    message = message.encode("utf-8", "replace").decode("utf-8")
    error: dict[str, Any] = {"message": _clip(message, MAX_MESSAGE_CHARS)}
    code = getattr(err, "code", None)
    if isinstance(code, str):
        error["code"] = code[:MAX_CODE_CHARS].encode("utf-8", "replace").decode("utf-8")
    return error


def error_response(request_id: str, error: dict[str, Any], max_frame_bytes: int) -> str:
    """The response frame, its message shortened until the frame fits ``max_frame_bytes``."""
    line = _response(request_id, error)
    if len(line.encode("utf-8")) <= max_frame_bytes:
        return line
    # Cut the message's UTF-8 to what is left once the rest of the frame and an ellipsis are counted;
    # "ignore" drops a character cut in half. json.dumps may escape a few characters longer, hence the loop.
    message = error["message"]
    budget = max_frame_bytes - len(_response(request_id, {**error, "message": ""}).encode("utf-8")) - 3
    while budget > 0:
        short = message.encode("utf-8")[:budget].decode("utf-8", "ignore") + "…"
        line = _response(request_id, {**error, "message": short})
        if len(line.encode("utf-8")) <= max_frame_bytes:
            return line
        budget -= len(line.encode("utf-8")) - max_frame_bytes
    return _response(request_id, {**error, "message": ""})


def _response(request_id: str, error: dict[str, Any]) -> str:
    return json.dumps(
        {"type": "response", "id": request_id, "error": error}, ensure_ascii=False, separators=(",", ":")
    )


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else f"{text[: max(0, limit - 1)]}…"
