"""Frames: one JSON object per line, bounded in bytes."""

import unittest

from berth_workload.errors import BerthWorkloadError
from berth_workload.framing import LineDecoder, encode_line, frame, to_json


class LineDecoderTest(unittest.TestCase):
    def test_splits_lines_and_joins_a_line_that_arrives_in_pieces(self) -> None:
        d = LineDecoder(100)
        self.assertEqual(d.feed(b'{"a":1}\n{"b"'), [b'{"a":1}'])
        self.assertEqual(d.feed(b":2"), [])
        self.assertEqual(d.feed(b'}\n{"c":3}\n'), [b'{"b":2}', b'{"c":3}'])

    def test_keeps_a_multi_byte_character_split_between_chunks_whole(self) -> None:
        d = LineDecoder(100)
        encoded = '"ü✓𝄞"\n'.encode()
        self.assertEqual(d.feed(encoded[:2]) + d.feed(encoded[2:]), ['"ü✓𝄞"'.encode()])

    def test_tolerates_a_carriage_return_and_skips_empty_lines(self) -> None:
        d = LineDecoder(100)
        self.assertEqual(d.feed(b"\n\r\n{}\r\n\n[]\n"), [b"{}", b"[]"])

    def test_drops_an_over_size_line_up_to_its_newline_and_goes_on(self) -> None:
        d = LineDecoder(8)
        self.assertEqual(d.feed(b"12345678\n123456789\nok\n"), [b"12345678", b"ok"])
        # Arriving in pieces, it is never buffered whole.
        self.assertEqual(d.feed(b"1234567"), [])
        self.assertEqual(d.feed(b"89abcdef" * 1000), [])
        self.assertEqual(d._part_bytes, 0)
        self.assertEqual(d.feed(b"xyz\nafter\n"), [b"after"])

    def test_a_line_of_exactly_the_limit_in_pieces_passes(self) -> None:
        d = LineDecoder(8)
        self.assertEqual(d.feed(b"1234") + d.feed(b"5678\r\n"), [b"12345678"])

    def test_a_raised_limit_applies_to_the_next_lines(self) -> None:
        d = LineDecoder(4)
        d.max_bytes = 10
        self.assertEqual(d.feed(b"123456789\n"), [b"123456789"])


class EncodingTest(unittest.TestCase):
    def test_writes_compact_json_with_text_as_utf8(self) -> None:
        self.assertEqual(to_json({"a": [1, "ü"], "b": None}), '{"a":[1,"ü"],"b":null}')
        self.assertEqual(encode_line(to_json("ü"), 100), '"ü"\n'.encode())

    def test_escapes_newlines_inside_strings(self) -> None:
        self.assertEqual(encode_line(to_json("a\nb"), 100), b'"a\\nb"\n')

    def test_refuses_what_has_no_json_form(self) -> None:
        circular: list[object] = []
        circular.append(circular)
        for value in (object(), float("nan"), float("inf"), {1j: 1}, circular, "\ud800"):
            with self.subTest(value=repr(value)), self.assertRaises(BerthWorkloadError) as caught:
                to_json(value)
            self.assertEqual(caught.exception.code, "UNSERIALIZABLE")

    def test_counts_the_limit_in_utf8_bytes_without_the_newline(self) -> None:
        self.assertEqual(len(encode_line('"' + "ü" * 3 + '"', 8)), 9)
        with self.assertRaises(BerthWorkloadError) as caught:
            encode_line('"' + "ü" * 4 + '"', 9)
        self.assertEqual(caught.exception.code, "FRAME_TOO_LARGE")
        self.assertIn("10 bytes", str(caught.exception))

    def test_builds_frames_of_known_fields(self) -> None:
        self.assertEqual(frame("pong", id="h1"), '{"type":"pong","id":"h1"}')


if __name__ == "__main__":
    unittest.main()
