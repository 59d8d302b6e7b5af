"""The SDK's errors: one class with a stable ``code``, plus the one a handler raises to answer with a code."""

from __future__ import annotations


class BerthWorkloadError(Exception):
    """Every error this SDK makes: ``code`` is stable, the message is for people.

    Codes: ``NO_SOCKET``, ``NOT_CONNECTED``, ``DISCONNECTED``, ``CLOSED``,
    ``TIMEOUT``, ``UNSERIALIZABLE``, ``FRAME_TOO_LARGE``, ``NO_HANDLER``, or the
    code of one of berth's error frames (e.g. ``REPLACED``).
    """

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    def __repr__(self) -> str:
        return f"BerthWorkloadError({self.message!r}, code={self.code!r})"


class RequestError(Exception):
    """Raise it in a request handler to answer with an error and a code of your own.

    Any exception with a string ``code`` attribute does the same; this one just
    saves defining a class.

    Example::

        @berth.on_request
        def answer(data):
            raise RequestError(f"unknown city {data['city']}", code="E_CITY")
    """

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code
