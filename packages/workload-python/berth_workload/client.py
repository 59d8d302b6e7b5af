"""The workload's side of berth's channel, for asyncio: connect, say hello, serve, reconnect."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import Callable
from concurrent.futures import Executor
from types import TracebackType
from typing import Any, Literal, TypeVar

from .backoff import Backoff
from .connection import Connection
from .error_response import debug_from_env
from .errors import BerthWorkloadError
from .framing import DEFAULT_MAX_FRAME_BYTES, encode_line, frame, to_json
from .handlers import ErrorHandler, Handlers, MessageHandler, RequestHandler
from .welcome import WelcomeInfo

PROTOCOL_VERSION = 1
#: Error codes after which connecting again cannot help (two clients would keep replacing each other).
FATAL_CODES = frozenset({"PROTOCOL_MISMATCH", "REPLACED"})

log = logging.getLogger("berth_workload")

F = TypeVar("F", bound=Callable[..., Any])
State = Literal["idle", "connecting", "handshaking", "ready", "waiting", "closed"]


def _report(err: BaseException) -> None:
    """The default on_error: berth's error frames by code, a handler's own exception with its traceback."""
    if isinstance(err, BerthWorkloadError):
        log.error("%s: %s", err.code, err.message)
    else:
        log.error("a handler failed: %s", err, exc_info=err)


class WorkloadClient:
    """A connection to berth that keeps itself up. Make it with :func:`connect`.

    Requests from berth go to the one ``on_request`` handler (sync or async;
    many in flight, each answered when it finishes); messages go to every
    ``on_message`` handler; berth's pings are answered. When berth goes away
    (a restart, the channel re-opened) the client connects again with
    :class:`Backoff`; after ``REPLACED`` or ``PROTOCOL_MISMATCH`` it stops.

    Example::

        async with berth_workload.connect(meta={"app": "echo"}) as berth:
            @berth.on_request
            async def answer(data):
                return {"echo": data}

            await berth.ready
            await berth.send({"event": "started"})
            await berth.wait_closed()
    """

    def __init__(
        self,
        *,
        socket_path: str | None = None,
        meta: Any = None,
        reconnect: bool | Backoff = True,
        on_request: RequestHandler | None = None,
        on_message: MessageHandler | None = None,
        on_error: ErrorHandler | None = None,
        executor: Executor | None = None,
        debug: bool | None = None,
    ) -> None:
        path = socket_path or os.environ.get("BERTH_SOCKET")
        if not path:
            message = "BERTH_SOCKET is not set: is this process running under berth?"
            raise BerthWorkloadError(message, "NO_SOCKET")
        self.socket_path = path
        to_json(meta)  # fail here, not in the background, when meta has no JSON form
        self._hello = frame("hello", protocol=PROTOCOL_VERSION, **({} if meta is None else {"meta": meta}))
        self._backoff = None if reconnect is False else (Backoff() if reconnect is True else reconnect)
        self._handlers = Handlers(
            on_error=on_error or _report,
            executor=executor,
            debug=debug_from_env() if debug is None else debug,
        )
        self._handlers.request = on_request
        if on_message is not None:
            self._handlers.messages.append(on_message)
        self._welcome_hooks: list[Callable[[WelcomeInfo], Any]] = []
        self._disconnect_hooks: list[Callable[[BerthWorkloadError], Any]] = []
        self._state: State = "idle"
        self._conn: Connection | None = None
        self._welcome: WelcomeInfo | None = None
        self._ready: asyncio.Future[WelcomeInfo] | None = None
        self._closed: asyncio.Future[BerthWorkloadError | None] | None = None
        self._runner: asyncio.Task[None] | None = None
        self._pings: dict[str, asyncio.Future[float]] = {}
        self._ping_seq = 0

    # -- public API ---------------------------------------------------------

    @property
    def ready(self) -> asyncio.Future[WelcomeInfo]:
        """Resolves with berth's first welcome; fails (BerthWorkloadError) if the client stops before one."""
        if self._ready is None:
            self._ready = _quiet_future()
        return self._ready

    @property
    def welcome(self) -> WelcomeInfo | None:
        """The latest welcome from berth, or None before the first."""
        return self._welcome

    @property
    def _closing(self) -> bool:
        return self._state == "closed"

    @property
    def connected(self) -> bool:
        """True while a welcomed connection is up."""
        return self._state == "ready"

    def on_request(self, handler: F) -> F:
        """Answers berth's requests with ``handler(data)`` (sync or async); a second call replaces it.

        Its return value is the answer; an exception becomes an error response
        with ``str(exc)`` and the exception's ``code`` attribute when it is a string.
        """
        self._handlers.request = handler
        return handler

    def on_message(self, handler: F) -> F:
        """Calls ``handler(data)`` (sync or async) for every message from berth."""
        self._handlers.messages.append(handler)
        return handler

    def on_welcome(self, handler: F) -> F:
        """Calls ``handler(info)`` after every handshake (the first and each reconnect)."""
        self._welcome_hooks.append(handler)
        return handler

    def on_disconnect(self, handler: F) -> F:
        """Calls ``handler(error)`` when a welcomed connection ends (the client then reconnects)."""
        self._disconnect_hooks.append(handler)
        return handler

    async def send(self, data: Any) -> bool:
        """Sends a message to berth; False (dropped) when not connected.

        Raises BerthWorkloadError ``UNSERIALIZABLE`` or ``FRAME_TOO_LARGE``.
        """
        conn = self._conn
        if conn is None or self._state != "ready":
            return False
        line = encode_line(f'{{"type":"message","data":{to_json(data)}}}', conn.max_frame_bytes)
        conn.write(line)
        await conn.drain()
        return True

    async def ping(self, timeout: float = 5.0) -> float:
        """The round trip to berth, in seconds."""
        conn = self._conn
        if conn is None or self._state != "ready":
            raise BerthWorkloadError("Not connected to berth.", "NOT_CONNECTED")
        self._ping_seq += 1
        ping_id = f"w{self._ping_seq}"
        pong: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._pings[ping_id] = pong
        sent_at = time.perf_counter()
        conn.write(f'{{"type":"ping","id":"{ping_id}"}}\n'.encode())
        try:
            async with asyncio.timeout(timeout):
                await pong
        except TimeoutError:
            raise BerthWorkloadError(f"No pong within {timeout} s.", "TIMEOUT") from None
        finally:
            self._pings.pop(ping_id, None)
        return time.perf_counter() - sent_at

    def start(self) -> WorkloadClient:
        """Starts connecting in the running event loop (``async with`` and :func:`run` call it)."""
        if self._state == "idle":
            self._state = "connecting"
            self._runner = asyncio.get_running_loop().create_task(self._run(), name="berth_workload")
            # A task cancelled before its first step never runs its `finally`: settle here too (idempotent).
            self._runner.add_done_callback(lambda _: self._finish(None))
        return self

    async def wait_closed(self) -> BerthWorkloadError | None:
        """Waits until the client stops for good; returns the error that stopped it (None after close())."""
        if self._closed is None:
            self._closed = _quiet_future()
        return await asyncio.shield(self._closed)

    async def close(self) -> None:
        """Stops for good: no reconnect, the connection ended, running handlers cancelled. Idempotent."""
        if self._state == "idle":
            self._finish(None)
        elif self._runner is not None and not self._runner.done() and self._state != "closed":
            # Closed first, so that ending the connection is no "disconnect" and nothing more is sent.
            self._state = "closed"
            self._runner.cancel()
        await self.wait_closed()

    async def __aenter__(self) -> WorkloadClient:
        return self.start()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    # -- the connection loop ------------------------------------------------

    async def _run(self) -> None:
        error: BerthWorkloadError | None = None
        attempt = 0
        try:
            while True:
                self._state = "connecting"
                try:
                    reader, writer = await asyncio.open_unix_connection(self.socket_path)
                except OSError as err:
                    # ENOENT / ECONNREFUSED while berth re-creates the socket: like a dropped connection.
                    log.debug("could not connect to berth (%s)", err.strerror or err)
                else:
                    conn = Connection(reader, writer)
                    self._conn = conn
                    error = await self._serve(conn)
                    if error is not None:
                        return
                    if conn.welcomed:
                        attempt = 0
                delay = None if self._backoff is None else self._backoff.delay(attempt)
                if delay is None:
                    error = BerthWorkloadError("Could not reach berth.", "DISCONNECTED")
                    return
                attempt += 1
                self._state = "waiting"
                log.debug("connecting to berth again in %.3f s (attempt %d)", delay, attempt)
                await asyncio.sleep(delay)
        except asyncio.CancelledError:
            error = None  # close()
        finally:
            await self._stop(error)

    async def _serve(self, conn: Connection) -> BerthWorkloadError | None:
        """Serves one connection until it ends; returns the fatal error that ended it, if any."""
        self._state = "handshaking"
        try:
            conn.write(f"{self._hello}\n".encode())
            async for line in conn.lines():
                self._on_line(conn, line)
        except OSError:
            pass  # a reset connection ends like a closed one
        finally:
            self._conn = None
            conn.live = False
            # Read through properties: the frames handled above (welcome) and close() change the state.
            was_ready = self.connected
            if not self._closing:
                self._state = "connecting"
            lost = conn.fatal or BerthWorkloadError("The connection to berth was lost.", "DISCONNECTED")
            self._fail_pings(lost)
            await conn.close()
            if was_ready:
                for hook in self._disconnect_hooks:
                    self._handlers.call(hook, lost)
        return conn.fatal

    async def _stop(self, error: BerthWorkloadError | None) -> None:
        self._state = "closed"
        self._fail_pings(error or BerthWorkloadError("The client was closed.", "CLOSED"))
        await self._handlers.cancel()
        self._finish(error)

    def _finish(self, error: BerthWorkloadError | None) -> None:
        self._state = "closed"
        ready = self.ready
        if not ready.done():
            closed = BerthWorkloadError("The client was closed before berth welcomed it.", "CLOSED")
            ready.set_exception(error or closed)
        if self._closed is None:
            self._closed = _quiet_future()
        if not self._closed.done():
            self._closed.set_result(error)

    # -- frames from berth --------------------------------------------------

    def _on_line(self, conn: Connection, line: bytes) -> None:
        try:
            msg = json.loads(line)
        except ValueError:
            return  # berth only sends JSON; nothing useful to do with a broken line
        if not isinstance(msg, dict):
            return
        kind = msg.get("type")
        if kind == "request":
            if isinstance(msg.get("id"), str):
                self._handlers.handle_request(conn, msg["id"], msg.get("data"))
        elif kind == "message":
            self._handlers.handle_message(msg.get("data"))
        elif kind == "ping":
            if isinstance(msg.get("id"), str):
                conn.write(f"{frame('pong', id=msg['id'])}\n".encode())
        elif kind == "pong":
            pong = self._pings.get(msg.get("id"))  # type: ignore[arg-type]
            if pong is not None and not pong.done():
                pong.set_result(0.0)
        elif kind == "welcome":
            self._on_welcome(conn, msg)
        elif kind == "error":
            self._on_error_frame(conn, msg)
        # Other types: a newer berth may send frames this SDK does not know; ignoring them keeps both working.

    def _on_welcome(self, conn: Connection, msg: dict[str, Any]) -> None:
        limit = msg.get("maxFrameBytes")
        info = WelcomeInfo(
            id=str(msg.get("id")),
            protocol=int(msg.get("protocol") or PROTOCOL_VERSION),
            max_frame_bytes=limit if isinstance(limit, int) and limit > 0 else DEFAULT_MAX_FRAME_BYTES,
        )
        conn.welcomed = True
        conn.max_frame_bytes = info.max_frame_bytes
        self._welcome = info
        self._state = "ready"
        if not self.ready.done():
            self.ready.set_result(info)
        log.debug("berth welcomed the workload as %s", info.id)
        for hook in self._welcome_hooks:
            self._handlers.call(hook, info)

    def _on_error_frame(self, conn: Connection, msg: dict[str, Any]) -> None:
        message = str(msg.get("message") or "berth reported an error.")
        error = BerthWorkloadError(message, str(msg.get("code") or "ERROR"))
        if error.code in FATAL_CODES:
            conn.fatal = error
        self._handlers.on_error(error)

    def _fail_pings(self, error: BerthWorkloadError) -> None:
        for pong in self._pings.values():
            if not pong.done():
                pong.set_exception(error)
        self._pings.clear()


def _quiet_future() -> asyncio.Future[Any]:
    """A future whose failure, if nobody awaits it, is not reported as "never retrieved"."""
    future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    future.add_done_callback(lambda f: f.cancelled() or f.exception())
    return future


def connect(
    *,
    socket_path: str | None = None,
    meta: Any = None,
    reconnect: bool | Backoff = True,
    on_request: RequestHandler | None = None,
    on_message: MessageHandler | None = None,
    on_error: Callable[[BaseException], None] | None = None,
    executor: Executor | None = None,
    debug: bool | None = None,
) -> WorkloadClient:
    """A client for berth's socket (``BERTH_SOCKET`` unless ``socket_path``); ``async with`` starts it.

    ``meta`` (any JSON) goes in the hello and shows in the container's channel
    status, so put no secrets in it. ``reconnect`` is True (the default
    :class:`Backoff`), False, or a :class:`Backoff`. ``executor``, when given,
    runs sync handlers off the event loop. ``debug`` (default: the environment's
    ``BERTH_WORKLOAD_DEBUG=1``) puts tracebacks in error responses.
    Raises BerthWorkloadError ``NO_SOCKET`` when there is no socket to connect to.

    Example::

        async with berth_workload.connect(meta={"app": "weather"}) as berth:
            berth.on_request(lambda data: {"echo": data})
            await berth.wait_closed()
    """
    return WorkloadClient(
        socket_path=socket_path,
        meta=meta,
        reconnect=reconnect,
        on_request=on_request,
        on_message=on_message,
        on_error=on_error,
        executor=executor,
        debug=debug,
    )
