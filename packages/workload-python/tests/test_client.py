"""The asyncio client against a fake berth: handshake, requests, pings, reconnects, stopping."""

import asyncio
import os
import unittest
from typing import Any
from unittest import mock

from berth_workload import Backoff, BerthWorkloadError, RequestError, WelcomeInfo, WorkloadClient, connect, run

from fake_berth import FakeBerth

FAST = Backoff(initial=0.01, maximum=0.05)


class ClientTest(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self) -> None:
        self.berth = await FakeBerth().__aenter__()
        self.addAsyncCleanup(self.berth.__aexit__)
        self.errors: list[BaseException] = []

    def client(self, **options: Any) -> WorkloadClient:
        defaults: dict[str, Any] = {"socket_path": self.berth.path, "reconnect": FAST, "on_error": self.errors.append}
        options = defaults | options
        c = connect(**options)
        self.addAsyncCleanup(c.close)
        return c

    async def test_says_hello_with_its_meta_and_resolves_ready_with_the_welcome(self) -> None:
        async with self.client(meta={"app": "t"}) as c:
            self.assertEqual(await self.berth.next(), {"type": "hello", "protocol": 1, "meta": {"app": "t"}})
            self.assertEqual(await c.ready, WelcomeInfo(id="C1", protocol=1, max_frame_bytes=1024))
            self.assertTrue(c.connected)
            self.assertEqual(c.welcome, WelcomeInfo("C1", 1, 1024))

    async def test_answers_requests_in_the_order_they_finish(self) -> None:
        c = self.client().start()

        @c.on_request
        async def slow_first(data: int) -> int:
            await asyncio.sleep(0.05 if data == 1 else 0)
            return data * 10

        await c.ready
        self.berth.send({"type": "request", "id": "a", "data": 1})
        self.berth.send({"type": "request", "id": "b", "data": 2})
        self.assertEqual(await self.berth.next("response"), {"type": "response", "id": "b", "data": 20})
        self.assertEqual(await self.berth.next("response"), {"type": "response", "id": "a", "data": 10})

    async def test_turns_exceptions_and_bad_answers_into_error_responses(self) -> None:
        c = self.client().start()
        await c.ready
        self.berth.send({"type": "request", "id": "0", "data": None})
        self.assertEqual((await self.berth.next("response"))["error"]["code"], "NO_HANDLER")

        def handler(kind: str) -> Any:
            if kind == "coded":
                raise RequestError("unknown city", code="E_CITY")
            if kind == "big":
                return "x" * 2000
            if kind == "nan":
                return float("nan")
            return None

        c.on_request(handler)
        for rid in ("coded", "big", "nan", "none"):
            self.berth.send({"type": "request", "id": rid, "data": rid})
        answers = {f["id"]: f for f in [await self.berth.next("response") for _ in range(4)]}
        self.assertEqual(answers["coded"]["error"], {"message": "unknown city", "code": "E_CITY"})
        self.assertEqual(answers["big"]["error"]["code"], "FRAME_TOO_LARGE")
        self.assertEqual(answers["nan"]["error"]["code"], "UNSERIALIZABLE")
        self.assertEqual(answers["none"], {"type": "response", "id": "none", "data": None})

    async def test_answers_pings_and_measures_its_own(self) -> None:
        c = self.client().start()
        await c.ready
        self.berth.send({"type": "ping", "id": "h1"})
        self.assertEqual(await self.berth.next("pong"), {"type": "pong", "id": "h1"})
        rtt = asyncio.ensure_future(c.ping())
        ping = await self.berth.next("ping")
        self.berth.send({"type": "pong", "id": ping["id"]})
        self.assertGreater(await rtt, 0)

    async def test_ping_times_out_and_send_is_dropped_when_not_connected(self) -> None:
        c = self.client().start()
        await c.ready
        with self.assertRaises(BerthWorkloadError) as caught:
            await c.ping(timeout=0.05)
        self.assertEqual(caught.exception.code, "TIMEOUT")
        await c.close()
        self.assertFalse(await c.send("late"))

    async def test_carries_messages_and_reports_a_failing_message_handler(self) -> None:
        received: list[Any] = []
        c = self.client().start()
        c.on_message(received.append)
        c.on_message(lambda data: 1 / 0)
        await c.ready
        self.assertTrue(await c.send({"up": 1}))
        self.assertEqual(await self.berth.next("message"), {"type": "message", "data": {"up": 1}})
        self.berth.send({"type": "message", "data": "down"})
        self.berth.send({"type": "ping", "id": "after"})
        await self.berth.next("pong")
        self.assertEqual(received, ["down"])
        self.assertIsInstance(self.errors[0], ZeroDivisionError)

    async def test_reconnects_after_berth_restarts_and_resets_its_back_off(self) -> None:
        welcomes: list[WelcomeInfo] = []
        lost: list[str] = []
        c = self.client().start()
        c.on_welcome(welcomes.append)
        gone = asyncio.Event()
        @c.on_disconnect
        def disconnected(err: BerthWorkloadError) -> None:
            lost.append(err.code)
            gone.set()

        await c.ready
        await self.berth.stop()
        await asyncio.wait_for(gone.wait(), 5)
        self.assertEqual(lost, ["DISCONNECTED"])
        self.assertFalse(c.connected)
        await self.berth.start()
        await self.berth.next("hello")
        await self.berth.next("hello")
        self.assertEqual(len(welcomes), 2)
        self.assertTrue(c.connected)

    async def test_stops_for_good_on_replaced(self) -> None:
        c = self.client().start()
        await c.ready
        self.berth.send({"type": "error", "code": "REPLACED", "message": "replaced"})
        self.berth.writers[-1].close()
        error = await asyncio.wait_for(c.wait_closed(), 5)
        self.assertEqual(error.code if error else None, "REPLACED")
        self.assertEqual(self.berth.connections, 1)
        self.assertEqual([e.code for e in self.errors if isinstance(e, BerthWorkloadError)], ["REPLACED"])

    async def test_stops_for_good_on_protocol_mismatch(self) -> None:
        self.berth.welcome = False
        c = self.client().start()
        await self.berth.next("hello")
        self.berth.send({"type": "error", "code": "PROTOCOL_MISMATCH", "message": "berth speaks protocol 2"})
        self.berth.writers[-1].close()
        error = await asyncio.wait_for(c.wait_closed(), 5)
        self.assertEqual(error.code if error else None, "PROTOCOL_MISMATCH")
        with self.assertRaises(BerthWorkloadError) as caught:
            await c.ready
        self.assertEqual(caught.exception.code, "PROTOCOL_MISMATCH")
        self.assertEqual(self.berth.connections, 1)

    async def test_reconnects_after_a_refused_hello_that_is_worth_retrying(self) -> None:
        self.berth.welcome = False
        c = self.client().start()
        await self.berth.next("hello")
        self.berth.send({"type": "error", "code": "HELLO_TIMEOUT", "message": "too slow"})
        self.berth.writers[-1].close()
        self.berth.welcome = True
        await self.berth.next("hello")
        self.assertEqual((await asyncio.wait_for(c.ready, 5)).id, "C1")

    async def test_run_serves_sync_handlers_in_threads_and_raises_what_stopped_it(self) -> None:
        import threading

        threads: set[str] = set()

        def handler(data: int) -> int:
            threads.add(threading.current_thread().name)
            return data + 1

        # From a thread of its own, as signals are only for the main thread; REPLACED ends it.
        served = asyncio.ensure_future(
            asyncio.to_thread(run, handler, socket_path=self.berth.path, reconnect=FAST)
        )
        await self.berth.next("hello")
        self.berth.send({"type": "request", "id": "1", "data": 41})
        self.assertEqual(await self.berth.next("response"), {"type": "response", "id": "1", "data": 42})
        self.assertTrue(all(name.startswith("berth-request") for name in threads), threads)
        self.berth.send({"type": "error", "code": "REPLACED", "message": "replaced"})
        self.berth.writers[-1].close()
        with self.assertRaises(BerthWorkloadError) as caught:
            await asyncio.wait_for(served, 5)
        self.assertEqual(caught.exception.code, "REPLACED")

    async def test_gives_up_when_its_policy_has_no_attempt_left(self) -> None:
        await self.berth.stop()
        c = self.client(reconnect=Backoff(initial=0.01, max_attempts=2)).start()
        error = await asyncio.wait_for(c.wait_closed(), 5)
        self.assertEqual(error.code if error else None, "DISCONNECTED")
        with self.assertRaises(BerthWorkloadError):
            await c.ready

    async def test_closes_idempotently_and_fails_ready_when_closed_before_a_welcome(self) -> None:
        self.berth.welcome = False
        c = self.client().start()
        await self.berth.next("hello")
        await asyncio.gather(c.close(), c.close())
        with self.assertRaises(BerthWorkloadError) as caught:
            await c.ready
        self.assertEqual(caught.exception.code, "CLOSED")
        self.assertIsNone(await c.wait_closed())

    async def test_closes_before_it_ever_ran_and_after_a_welcome_without_a_disconnect(self) -> None:
        early = self.client().start()
        await early.close()  # before the client's task took its first step
        self.assertEqual(self.berth.connections, 0)
        lost: list[object] = []
        c = self.client().start()
        c.on_disconnect(lost.append)
        await c.ready
        await c.close()
        self.assertFalse(c.connected)
        self.assertEqual(lost, [])

    async def test_refuses_to_start_without_a_socket(self) -> None:
        with mock.patch.dict(os.environ, {}, clear=True), self.assertRaises(BerthWorkloadError) as caught:
            connect()
        self.assertEqual(caught.exception.code, "NO_SOCKET")

    async def test_refuses_meta_with_no_json_form_at_once(self) -> None:
        with self.assertRaises(BerthWorkloadError) as caught:
            connect(socket_path=self.berth.path, meta={"when": object()})
        self.assertEqual(caught.exception.code, "UNSERIALIZABLE")


if __name__ == "__main__":
    unittest.main()
