"""The reconnect policy: exponential back-off with equal jitter."""

import unittest

from berth_workload import Backoff


class BackoffTest(unittest.TestCase):
    def test_starts_at_100ms_and_doubles_up_to_5s_by_default(self) -> None:
        b = Backoff()
        self.assertEqual([b.step(n) for n in range(8)], [0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0])
        self.assertEqual(b.step(10_000), 5.0)  # no overflow after many attempts

    def test_waits_between_half_the_step_and_the_whole_step(self) -> None:
        self.assertEqual(Backoff(random=lambda: 0.0).delay(3), 0.4)
        self.assertEqual(Backoff(random=lambda: 1.0).delay(3), 0.8)
        self.assertAlmostEqual(Backoff(random=lambda: 0.5).delay(3) or 0, 0.6)

    def test_spreads_workloads_that_retry_at_the_same_moment(self) -> None:
        delays = {Backoff().delay(2) for _ in range(50)}
        self.assertGreater(len(delays), 1)
        self.assertTrue(all(d is not None and 0.2 <= d <= 0.4 for d in delays))

    def test_gives_up_after_max_attempts(self) -> None:
        b = Backoff(max_attempts=2, random=lambda: 1.0)
        self.assertEqual([b.delay(0), b.delay(1), b.delay(2)], [0.1, 0.2, None])
        self.assertIsNone(Backoff(max_attempts=0).delay(0))

    def test_honours_its_own_factor_and_bounds(self) -> None:
        b = Backoff(initial=0.05, maximum=1.0, factor=3)
        self.assertEqual([round(b.step(n), 3) for n in range(5)], [0.05, 0.15, 0.45, 1.0, 1.0])

    def test_refuses_a_policy_that_would_spin_or_never_grow(self) -> None:
        for bad in ({"initial": 0}, {"initial": 2, "maximum": 1}, {"factor": 0.5}, {"max_attempts": -1}):
            with self.subTest(bad=bad), self.assertRaises(ValueError):
                Backoff(**bad)


if __name__ == "__main__":
    unittest.main()
