"""berth_workload — talk to berth from inside a berth container, in Python.

berth gives every container one Unix socket (its path is in ``BERTH_SOCKET``);
this package connects to it, does the handshake, answers berth's requests with
your handler, carries messages both ways, answers berth's pings, and connects
again with back-off whenever berth goes away. Standard library only.

Example (asyncio)::

    import asyncio, berth_workload

    async def main():
        async with berth_workload.connect(meta={"app": "echo"}) as berth:
            @berth.on_request
            async def answer(data):
                return {"echo": data}

            await berth.wait_closed()

    asyncio.run(main())

Example (blocking)::

    berth_workload.run(lambda data: {"echo": data})

The wire protocol is in berth's docs/protocol.md.
"""

from .backoff import Backoff
from .blocking import run
from .client import PROTOCOL_VERSION, WorkloadClient, connect
from .errors import BerthWorkloadError, RequestError
from .welcome import WelcomeInfo

__version__ = "0.1.0"

__all__ = [
    "PROTOCOL_VERSION",
    "Backoff",
    "BerthWorkloadError",
    "RequestError",
    "WelcomeInfo",
    "WorkloadClient",
    "__version__",
    "connect",
    "run",
]
