import { describe, expect, it } from "vitest";
import {
  assertSocketPathFits,
  MAX_SOCKET_PATH_BYTES,
  SocketPathTooLongError,
  socketPathFor,
} from "./socket-path.ts";

describe("socket path", () => {
  const id = "C0123456789A";

  it("puts the socket at <runDir>/<id>/berth.sock", () => {
    expect(socketPathFor("/run/berth", id)).toBe("/run/berth/C0123456789A/berth.sock");
    expect(assertSocketPathFits("/run/berth/", id)).toBe("/run/berth/C0123456789A/berth.sock");
  });

  it("accepts a path of exactly 107 bytes and refuses 108, naming BERTH_RUN_DIR", () => {
    const overhead = `/${id}/berth.sock`.length;
    const fits = `/${"r".repeat(MAX_SOCKET_PATH_BYTES - overhead - 1)}`;
    expect(Buffer.byteLength(assertSocketPathFits(fits, id))).toBe(107);
    const tooLong = `${fits}x`;
    expect(() => assertSocketPathFits(tooLong, id)).toThrow(SocketPathTooLongError);
    expect(() => assertSocketPathFits(tooLong, id)).toThrow(/BERTH_RUN_DIR.*at most 83 bytes/);
  });

  it("counts bytes, not characters", () => {
    const overhead = `/${id}/berth.sock`.length;
    const chars = MAX_SOCKET_PATH_BYTES - overhead - 1;
    expect(() => assertSocketPathFits(`/${"é".repeat(chars)}`, id)).toThrow(/is 189 bytes/);
  });
});
