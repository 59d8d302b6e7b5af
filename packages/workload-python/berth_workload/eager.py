"""An async handler's first step, run at once (what Python 3.12's eager tasks do, for 3.11).

Most request handlers are ``async def`` but finish without ever waiting
(``return {"echo": data}``). Run as a task, each costs a task and a turn of
the event loop before its answer can be written; run eagerly, such a handler
is answered in the same turn as its request, as fast as a sync one. A handler
that does wait goes on as a task from where its first step stopped.
"""

from __future__ import annotations

import contextvars
from collections.abc import Coroutine, Generator
from typing import Any


class Finished:
    """A coroutine that returned during its first step."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


def first_step(coro: Coroutine[Any, Any, Any], context: contextvars.Context) -> Finished | Resumed:
    """Runs ``coro`` until it first waits, in ``context``.

    Returns :class:`Finished` when it returned; otherwise a :class:`Resumed`
    to await (in a task made with the same ``context``) for the rest. What the
    first step raises is raised here.
    """
    try:
        yielded = context.run(coro.send, None)
    except StopIteration as done:
        return Finished(done.value)
    return Resumed(coro, yielded)


class Resumed:
    """The rest of a coroutine whose first step ran outside a task.

    Awaited in a task, it hands the task what that step waits on (a future),
    then drives the coroutine on exactly as the task would have: values and
    exceptions (a cancellation among them) go in, what it waits on comes out.
    """

    __slots__ = ("_coro", "_yielded")

    def __init__(self, coro: Coroutine[Any, Any, Any], yielded: Any) -> None:
        self._coro = coro
        self._yielded = yielded

    def __await__(self) -> Generator[Any, Any, Any]:
        to_yield = self._yielded
        while True:
            try:
                sent = yield to_yield
            except GeneratorExit:
                self._coro.close()
                raise
            except BaseException as err:  # noqa: BLE001 - delivered to the coroutine, as a task would
                try:
                    to_yield = self._coro.throw(err)
                except StopIteration as done:
                    return done.value
            else:
                try:
                    to_yield = self._coro.send(sent)
                except StopIteration as done:
                    return done.value
