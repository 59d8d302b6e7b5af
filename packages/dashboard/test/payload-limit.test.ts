import { describe, expect, it } from "vitest";
import { ENVELOPE_BYTES, payloadProblem } from "../src/console/payload-limit.ts";

const limits = { maxPayloadBytes: 16 * 2 ** 20, maxFrameBytes: 2 ** 20 };

describe("the console's size limit", () => {
  it("lets data through that fits in one of berth's messages and one frame, with their envelopes", () => {
    expect(payloadProblem(2 ** 20 - ENVELOPE_BYTES, limits)).toBeUndefined();
  });

  it("refuses data over berth's message limit before sending, naming its size and the limit", () => {
    const problem = payloadProblem(20 * 2 ** 20, limits);
    expect(problem).toContain("20.0 MiB");
    expect(problem).toContain("maxPayloadBytes 16.0 MiB");
  });

  it("refuses data that fits in a message but not in a frame to the workload", () => {
    expect(payloadProblem(2 * 2 ** 20, limits)).toContain("maxFrameBytes 1.0 MiB");
  });
});
