"""An async handler's first step run at once: finished, resumed in a task, cancelled, in its own context."""

import asyncio
import contextvars
import unittest

from berth_workload.eager import Finished, Resumed, first_step

where = contextvars.ContextVar("where", default="caller")


class FirstStepTest(unittest.IsolatedAsyncioTestCase):
    async def test_a_coroutine_that_never_waits_finishes_in_its_first_step(self):
        async def echo(data):
            return {"echo": data}

        result = first_step(echo(1), contextvars.copy_context())
        self.assertIsInstance(result, Finished)
        self.assertEqual(result.value, {"echo": 1})

    async def test_one_that_waits_goes_on_in_a_task_from_where_it_stopped(self):
        steps = []

        async def slow(data):
            steps.append("before")
            await asyncio.sleep(0.01)
            steps.append("after")
            return data * 2

        context = contextvars.copy_context()
        result = first_step(slow(21), context)
        self.assertIsInstance(result, Resumed)
        self.assertEqual(steps, ["before"])

        async def rest():
            return await result

        self.assertEqual(await asyncio.get_running_loop().create_task(rest(), context=context), 42)
        self.assertEqual(steps, ["before", "after"])

    async def test_what_the_first_step_raises_is_raised_at_once(self):
        async def broken(data):
            raise ValueError(f"bad {data}")

        with self.assertRaisesRegex(ValueError, "bad 3"):
            first_step(broken(3), contextvars.copy_context())

    async def test_a_cancelled_task_cancels_the_handler_which_may_clean_up(self):
        cleaned = asyncio.Event()

        async def forever(_data):
            try:
                await asyncio.sleep(3600)
            finally:
                cleaned.set()

        result = first_step(forever(None), contextvars.copy_context())

        async def rest():
            return await result

        task = asyncio.get_running_loop().create_task(rest())
        await asyncio.sleep(0)
        task.cancel()
        with self.assertRaises(asyncio.CancelledError):
            await task
        self.assertTrue(cleaned.is_set())

    async def test_the_handler_runs_in_its_own_context_across_both_parts(self):
        async def handler(_data):
            where.set("handler")
            await asyncio.sleep(0)
            return where.get()

        context = contextvars.copy_context()
        result = first_step(handler(None), context)

        async def rest():
            return await result

        self.assertEqual(await asyncio.get_running_loop().create_task(rest(), context=context), "handler")
        self.assertEqual(where.get(), "caller")


if __name__ == "__main__":
    unittest.main()
