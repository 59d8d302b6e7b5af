"""A handler's exception as berth's caller sees it: message and code, no traceback unless asked."""

import json
import os
import unittest
from unittest import mock

from berth_workload import BerthWorkloadError, RequestError
from berth_workload.error_response import debug_from_env, describe_error, error_response


def raised(err: Exception) -> Exception:
    try:
        raise err
    except Exception as caught:
        return caught


class CodedError(Exception):
    code = "E_CODED"


class DescribeErrorTest(unittest.TestCase):
    def test_keeps_the_message_and_a_string_code(self) -> None:
        self.assertEqual(
            describe_error(raised(RequestError("unknown city", code="E_CITY"))),
            {"message": "unknown city", "code": "E_CITY"},
        )
        self.assertEqual(describe_error(raised(CodedError("bad"))), {"message": "bad", "code": "E_CODED"})
        self.assertEqual(
            describe_error(BerthWorkloadError("too big", "FRAME_TOO_LARGE")),
            {"message": "too big", "code": "FRAME_TOO_LARGE"},
        )

    def test_leaves_out_a_code_that_is_not_a_string(self) -> None:
        err = raised(OSError(2, "No such file"))  # OSError's errno is no `code`; an int code is dropped
        err.code = 2  # type: ignore[attr-defined]
        self.assertEqual(describe_error(err), {"message": "[Errno 2] No such file"})
        self.assertEqual(describe_error(RequestError("plain")), {"message": "plain"})

    def test_names_the_class_when_the_message_is_empty(self) -> None:
        self.assertEqual(describe_error(raised(ValueError())), {"message": "ValueError"})
        self.assertEqual(describe_error(raised(KeyError("city"))), {"message": "'city'"})

    def test_never_carries_the_traceback_unless_debugging(self) -> None:
        err = raised(ValueError("secret path /app/main.py?"))
        self.assertNotIn("Traceback", json.dumps(describe_error(err)))
        debug = describe_error(err, debug=True)["message"]
        self.assertTrue(debug.startswith("secret path /app/main.py?\nTraceback"))
        self.assertIn("ValueError", debug)

    def test_bounds_the_message_and_the_code(self) -> None:
        error = describe_error(RequestError("x" * 10_000, code="C" * 1000))
        self.assertEqual(len(error["message"]), 4096)
        self.assertTrue(error["message"].endswith("…"))
        self.assertEqual(len(error["code"]), 256)

    def test_replaces_text_that_has_no_utf8(self) -> None:
        self.assertEqual(describe_error(RequestError("bad \udcff byte"))["message"], "bad ? byte")

    def test_debug_follows_the_environment(self) -> None:
        for value, expected in (("1", True), ("true", True), ("", False), ("0", False)):
            with self.subTest(value=value), mock.patch.dict(os.environ, {"BERTH_WORKLOAD_DEBUG": value}):
                self.assertIs(debug_from_env(), expected)


class ErrorResponseTest(unittest.TestCase):
    def test_is_a_response_frame_for_the_request(self) -> None:
        line = error_response("17", {"message": "no", "code": "E"}, 1024)
        expected = {"type": "response", "id": "17", "error": {"message": "no", "code": "E"}}
        self.assertEqual(json.loads(line), expected)

    def test_shortens_the_message_until_the_frame_fits_the_limit(self) -> None:
        for text in ("x" * 4096, "ü" * 4096, "𝄞" * 4096):
            with self.subTest(char=text[0]):
                line = error_response("17", {"message": text, "code": "E"}, 300)
                self.assertLessEqual(len(line.encode()), 300)
                frame = json.loads(line)
                self.assertEqual(frame["error"]["code"], "E")
                self.assertTrue(frame["error"]["message"].startswith(text[:10]))


if __name__ == "__main__":
    unittest.main()
