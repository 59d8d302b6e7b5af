import { describe, expect, it } from "vitest";
import { ENVELOPE_BYTES, payloadProblem } from "../src/console/payload-limit.ts";

describe("the console's size limit", () => {
  it("lets data through that fits in one of berth's messages with its envelope", () => {
    expect(payloadProblem(1_000 - ENVELOPE_BYTES, 1_000)).toBeUndefined();
  });

  it("refuses larger data before sending, naming its size and the limit", () => {
    const problem = payloadProblem(2 * 2 ** 20, 2 ** 20);
    expect(problem).toContain("2.0 MiB");
    expect(problem).toContain("maxPayloadBytes 1.0 MiB");
  });
});
