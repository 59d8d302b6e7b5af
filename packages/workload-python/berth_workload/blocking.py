"""The blocking API for simple scripts: ``run(handler)`` serves until SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from .backoff import Backoff
from .client import WorkloadClient
from .handlers import MessageHandler, RequestHandler


def run(
    handler: RequestHandler | None = None,
    on_message: MessageHandler | None = None,
    meta: Any = None,
    *,
    socket_path: str | None = None,
    reconnect: bool | Backoff = True,
    max_workers: int | None = None,
    debug: bool | None = None,
) -> None:
    """Serves berth's requests with ``handler(data)`` until SIGTERM (or SIGINT), then returns.

    Sync handlers run in a pool of ``max_workers`` threads, so a slow one
    neither holds up the others nor berth's pings; ``on_message`` runs on a
    thread of its own, one message after another. Async handlers run on the
    event loop. When berth stops the client for good (``REPLACED``,
    ``PROTOCOL_MISMATCH``, or no reconnect left) it raises that BerthWorkloadError.

    Example::

        import berth_workload

        def answer(data):
            return {"echo": data}

        berth_workload.run(answer, meta={"app": "echo"})
    """
    asyncio.run(
        _serve(
            handler,
            on_message,
            meta,
            socket_path=socket_path,
            reconnect=reconnect,
            max_workers=max_workers,
            debug=debug,
        )
    )


async def _serve(
    handler: RequestHandler | None,
    on_message: MessageHandler | None,
    meta: Any,
    *,
    socket_path: str | None,
    reconnect: bool | Backoff,
    max_workers: int | None,
    debug: bool | None,
) -> None:
    # Not a `with` block: its exit would wait, on the event loop, for handlers still running.
    executor = ThreadPoolExecutor(max_workers, thread_name_prefix="berth-request")
    try:
        client = WorkloadClient(
            socket_path=socket_path,
            meta=meta,
            reconnect=reconnect,
            on_request=handler,
            on_message=on_message,
            executor=executor,
            debug=debug,
        )
        loop = asyncio.get_running_loop()
        # Signal handlers can only be set from the main thread; elsewhere the caller stops it its own way.
        in_main = threading.current_thread() is threading.main_thread()
        signals = (signal.SIGTERM, signal.SIGINT) if in_main else ()
        for signum in signals:
            loop.add_signal_handler(signum, lambda: asyncio.ensure_future(client.close()))
        try:
            error = await client.start().wait_closed()
        finally:
            for signum in signals:
                loop.remove_signal_handler(signum)
    finally:
        executor.shutdown(wait=False, cancel_futures=True)
    if error is not None:
        raise error
