import { describe, expect, it } from "vitest";
import { MAX_JSON_DEPTH } from "../util/json-depth.ts";
import { readHello, readWorkloadFrame } from "./read-workload-frame.ts";

const nested = (depth: number) => `${"[".repeat(depth)}${"]".repeat(depth)}`;

describe("readWorkloadFrame", () => {
  it("reads an answer with its data, or with the workload's error", () => {
    expect(readWorkloadFrame('{"type":"response","id":"7","data":{"ok":1}}')).toEqual({
      type: "response",
      id: "7",
      data: { ok: 1 },
      error: undefined,
    });
    expect(readWorkloadFrame('{"type":"response","id":"7","error":{"message":"nope","code":"E1"}}')).toEqual({
      type: "response",
      id: "7",
      data: null,
      error: { message: "nope", code: "E1" },
    });
    expect(readWorkloadFrame('{"type":"response","id":"7","error":{"code":5}}')).toMatchObject({
      error: { message: "The workload sent an error without a message." },
    });
  });

  it("refuses an answer without a usable id, as an answer still (it is not charged as sent unasked)", () => {
    expect(readWorkloadFrame('{"type":"response","id":7}')).toMatchObject({
      type: "bad",
      code: "BAD_FRAME",
      answer: true,
    });
  });

  it("reads messages (null for none), pings and pongs", () => {
    expect(readWorkloadFrame('{"type":"message"}')).toEqual({ type: "message", data: null });
    expect(readWorkloadFrame('{"type":"ping","id":"x"}')).toEqual({ type: "ping", id: "x" });
    expect(readWorkloadFrame('{"type":"pong","id":"p1"}')).toEqual({ type: "pong", id: "p1" });
    expect(readWorkloadFrame('{"type":"pong"}')).toEqual({ type: "pong", id: undefined });
  });

  it.each([
    ["not JSON", "{", "BAD_FRAME"],
    ["not an object", "[1]", "BAD_FRAME"],
    ["a type that is not a string", '{"type":1}', "BAD_FRAME"],
    ["a ping without an id", '{"type":"ping"}', "BAD_FRAME"],
    ["a second hello", '{"type":"hello","protocol":1}', "BAD_FRAME"],
    ["an unknown type", '{"type":"gossip"}', "UNKNOWN_TYPE"],
  ])("refuses %s", (_what, line, code) => {
    expect(readWorkloadFrame(line)).toMatchObject({ type: "bad", code, answer: false });
  });

  it("names an unknown type in at most 32 characters", () => {
    const frame = readWorkloadFrame(JSON.stringify({ type: "x".repeat(100) }));
    expect(frame).toMatchObject({ about: { type: "x".repeat(32) } });
  });

  it("refuses a frame nested too deep, naming the request an answer among them was for", () => {
    const deep = nested(MAX_JSON_DEPTH + 2);
    expect(readWorkloadFrame(`{"type":"response","id":"3","data":${deep}}`)).toMatchObject({
      type: "too_deep",
      responseId: "3",
    });
    expect(readWorkloadFrame(`{"type":"message","data":${deep}}`)).toMatchObject({
      type: "too_deep",
      responseId: undefined,
    });
  });
});

describe("readHello", () => {
  it("accepts a hello of berth's protocol and refuses anything else", () => {
    expect(readHello('{"type":"hello","protocol":1,"meta":{"v":2}}')).toEqual({
      ok: true,
      hello: { type: "hello", protocol: 1, meta: { v: 2 } },
    });
    expect(readHello("not json")).toMatchObject({ ok: false, reason: "invalid_hello" });
    expect(readHello('{"type":"hello","protocol":2}')).toMatchObject({
      ok: false,
      reason: "protocol_mismatch",
    });
  });

  it("refuses a hello whose meta nests deeper than a client may receive", () => {
    expect(readHello(`{"type":"hello","protocol":1,"meta":${nested(MAX_JSON_DEPTH + 2)}}`)).toMatchObject({
      ok: false,
      reason: "invalid_hello",
    });
  });
});
