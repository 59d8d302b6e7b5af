"""The workload's handlers, and where they run: requests answered as they finish, messages in order."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import inspect
import json
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any

from .connection import Connection
from .eager import Finished, Resumed, first_step
from .error_response import describe_error, error_response
from .errors import BerthWorkloadError
from .framing import encode_line, to_json

RequestHandler = Callable[[Any], Any]
MessageHandler = Callable[[Any], Any]
ErrorHandler = Callable[[BaseException], None]


class Handlers:
    """Runs the user's handlers for the client and answers requests on the connection that asked.

    A sync handler runs on the event loop, or in ``executor`` when one is
    given; an async one runs at once until it first waits (eager.py), and
    then, if it has not finished, as a task. Every task is tracked so that
    :meth:`cancel` can end them when the client stops. An answer for a
    connection that has ended is dropped: berth has already failed its request.
    """

    def __init__(self, *, on_error: ErrorHandler, executor: Executor | None, debug: bool) -> None:
        self.request: RequestHandler | None = None
        self.messages: list[MessageHandler] = []
        self.on_error = on_error
        self._executor = executor
        # Sync message handlers in threads run one after another on a thread of their own: in order.
        self._message_executor: ThreadPoolExecutor | None = None
        self._debug = debug
        self._tasks: set[asyncio.Future[Any]] = set()

    def handle_request(self, conn: Connection, request_id: str, data: Any) -> None:
        handler = self.request
        if handler is None:
            no_handler = BerthWorkloadError("This workload answers no requests.", "NO_HANDLER")
            self._respond_error(conn, request_id, no_handler)
            return
        if self._executor is not None and not inspect.iscoroutinefunction(handler):
            pending = asyncio.get_running_loop().run_in_executor(self._executor, handler, data)
            self._track(asyncio.ensure_future(self._answer(conn, request_id, pending)))
            return
        context = contextvars.copy_context()
        try:
            result = context.run(handler, data)
            if inspect.iscoroutine(result):
                # Its first step now: a handler that never waits is answered in this turn, without a task.
                result = first_step(result, context)
        except Exception as err:
            self._respond_error(conn, request_id, err)
            return
        if isinstance(result, Finished):
            self._respond(conn, request_id, result.value)
        elif isinstance(result, Resumed) or inspect.isawaitable(result):
            loop = asyncio.get_running_loop()
            self._track(loop.create_task(self._answer(conn, request_id, result), context=context))
        else:
            self._respond(conn, request_id, result)

    def handle_message(self, data: Any) -> None:
        for handler in self.messages:
            if self._executor is not None and not inspect.iscoroutinefunction(handler):
                if self._message_executor is None:
                    self._message_executor = ThreadPoolExecutor(1, thread_name_prefix="berth-message")
                loop = asyncio.get_running_loop()
                self._track(loop.run_in_executor(self._message_executor, handler, data), report=True)
            else:
                self.call(handler, data)

    def call(self, handler: Callable[[Any], Any], arg: Any) -> None:
        """Calls a message handler or a hook; what it raises goes to on_error, never to the connection."""
        try:
            result = handler(arg)
        except Exception as err:  # a bug in one handler must not cost the connection
            self.on_error(err)
            return
        if inspect.isawaitable(result):
            self._track(asyncio.ensure_future(result), report=True)

    async def cancel(self) -> None:
        """Cancels every handler still running (a thread's work cannot be stopped; its answer is dropped)."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._message_executor is not None:
            self._message_executor.shutdown(wait=False, cancel_futures=True)

    async def _answer(self, conn: Connection, request_id: str, pending: Awaitable[Any]) -> None:
        try:
            value = await pending
        except Exception as err:
            self._respond_error(conn, request_id, err)
        else:
            self._respond(conn, request_id, value)
        with contextlib.suppress(OSError):
            await conn.drain()

    def _respond(self, conn: Connection, request_id: str, value: Any) -> None:
        if not conn.live:
            return
        try:
            body = f'{{"type":"response","id":{json.dumps(request_id)},"data":{to_json(value)}}}'
            line = encode_line(body, conn.max_frame_bytes)
        except BerthWorkloadError as err:
            self._respond_error(conn, request_id, err)
            return
        conn.write(line)

    def _respond_error(self, conn: Connection, request_id: str, err: BaseException) -> None:
        if not conn.live:
            return
        # The SDK's own errors (NO_HANDLER, FRAME_TOO_LARGE…) say all there is: no traceback even in debug.
        error = describe_error(err, debug=self._debug and not isinstance(err, BerthWorkloadError))
        conn.write(f"{error_response(request_id, error, conn.max_frame_bytes)}\n".encode())

    def _track(self, future: asyncio.Future[Any], *, report: bool = False) -> None:
        self._tasks.add(future)

        def done(f: asyncio.Future[Any]) -> None:
            self._tasks.discard(f)
            if report and not f.cancelled():
                err = f.exception()
                if err is not None:
                    self.on_error(err)

        future.add_done_callback(done)
