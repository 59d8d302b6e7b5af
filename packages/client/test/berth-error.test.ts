import { describe, expect, it } from "vitest";
import { BerthError, isBerthError } from "../src/berth-error.ts";
import { CLIENT_ERROR_CODES } from "../src/client-error-codes.ts";
import { connectionFailed, refusalOf } from "../src/connect-error.ts";
import { ERROR_CODES } from "../src/protocol/index.ts";

describe("BerthError", () => {
  it("carries berth's answer as is: code, category, retryable, details, message", () => {
    const err = BerthError.fromWire({
      code: "NAME_CONFLICT",
      category: "validation",
      retryable: false,
      message: "A container named 'bot' already exists.",
      details: { id: "c1" },
    });
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({
      name: "BerthError",
      code: "NAME_CONFLICT",
      category: "validation",
      retryable: false,
      details: { id: "c1" },
      message: "A container named 'bot' already exists.",
    });
  });

  it("makes the client's own errors with their registry's category and retryable flag, keeping the cause", () => {
    const cause = new Error("socket has been disconnected");
    const err = BerthError.client("DISCONNECTED", "dropped", {
      cause,
      details: { event: "container:start" },
    });
    expect(err).toMatchObject({ code: "DISCONNECTED", category: "communication", retryable: true });
    expect(err.cause).toBe(cause);
    expect(BerthError.client("CLOSED").message).toBe(CLIENT_ERROR_CODES.CLOSED.message);
  });

  it("is narrowed by isBerthError, by one code or by several", () => {
    const err: unknown = BerthError.client("TIMEOUT");
    expect(isBerthError(err)).toBe(true);
    expect(isBerthError(err, "TIMEOUT")).toBe(true);
    expect(isBerthError(err, "NOT_FOUND")).toBe(false);
    expect(isBerthError(err, ["DISCONNECTED", "TIMEOUT"])).toBe(true);
    expect(isBerthError(new Error("TIMEOUT"), "TIMEOUT")).toBe(false);
    if (isBerthError(err, ["DISCONNECTED", "TIMEOUT"])) {
      const code: "DISCONNECTED" | "TIMEOUT" = err.code;
      expect(code).toBe("TIMEOUT");
    }
  });
});

describe("CLIENT_ERROR_CODES", () => {
  it("has no code that berth itself answers with, so that a code says who raised it", () => {
    for (const code of Object.keys(CLIENT_ERROR_CODES)) expect(Object.keys(ERROR_CODES)).not.toContain(code);
  });

  it("has the codes the client promises, with the categories and retry flags documented", () => {
    expect(CLIENT_ERROR_CODES).toMatchObject({
      CONNECTION_FAILED: { category: "communication", retryable: true },
      DISCONNECTED: { category: "communication", retryable: true },
      TIMEOUT: { category: "communication", retryable: true },
      PAYLOAD_TOO_LARGE: { category: "validation", retryable: false },
      CLOSED: { retryable: false },
      SESSION_REVOKED: { category: "auth", retryable: false },
    });
  });
});

describe("connect errors", () => {
  it("reads berth's refusal from connect_error.data, with berth's own message", () => {
    const err = Object.assign(
      new Error("A valid token is required: pass it in the handshake, as io(url, { auth: { token } })."),
      {
        data: { code: "UNAUTHORIZED", category: "auth", retryable: false },
      },
    );
    expect(refusalOf(err)).toMatchObject({ code: "UNAUTHORIZED", category: "auth", retryable: false });
    expect(refusalOf(err)?.message).toContain("auth: { token");
    const capped = Object.assign(new Error("too many"), {
      data: { code: "TOO_MANY_CONNECTIONS", category: "auth", retryable: true, details: { limit: 2 } },
    });
    expect(refusalOf(capped)).toMatchObject({
      code: "TOO_MANY_CONNECTIONS",
      retryable: true,
      details: { limit: 2 },
    });
  });

  it("does not take a transport failure, or a code berth does not have, for a refusal", () => {
    expect(refusalOf(new Error("websocket error"))).toBeUndefined();
    expect(refusalOf(Object.assign(new Error("x"), { data: { code: "NOT_A_CODE" } }))).toBeUndefined();
  });

  it("says that nothing answered, and how to start berth, when the connection is refused", () => {
    const refused = Object.assign(new Error("websocket error"), {
      description: {
        error: Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" }),
      },
    });
    const err = connectionFailed("http://127.0.0.1:1", refused, 10_000);
    expect(err.code).toBe("CONNECTION_FAILED");
    expect(err.message).toBe(
      "nothing answered at http://127.0.0.1:1: connection refused — is berth running? Start it with `npm start` or `berth serve`",
    );
    expect(err.cause).toBe(refused);
  });

  it("names the timeout when nothing answered in time, and the transport's own text otherwise", () => {
    expect(connectionFailed("http://h:1", "timeout", 500).message).toContain(
      "no answer from http://h:1 within 500 ms",
    );
    const forbidden = Object.assign(new Error("websocket error"), {
      description: { message: "Unexpected server response: 403" },
    });
    expect(connectionFailed("http://h:1", forbidden, 500).message).toContain(
      "Unexpected server response: 403",
    );
  });
});
