import { describe, expect, it } from "vitest";
import { fatalReport } from "./fatal-report.ts";
import { SecretRegistry } from "./secret-registry.ts";

describe("fatalReport", () => {
  it("writes one JSON line with no secret and no token in its message, stack or cause", () => {
    const secrets = new SecretRegistry();
    secrets.setTokens(new Map([["alice", "alice-token-0123"]]), "admin-token-0123");
    secrets.addEnvironment("alice", undefined, { K: "canary-fatal-s3cr3t" });
    const err = new SyntaxError("Invalid regular expression: /canary-fatal-s3cr3t|alice-token-0123/", {
      cause: new Error("admin-token-0123"),
    });
    const line = fatalReport(err, "berth crashed", secrets.system);
    expect(line.endsWith("\n")).toBe(true);
    expect(JSON.parse(line)).toMatchObject({ level: 60, msg: "berth crashed", err: { type: "SyntaxError" } });
    for (const secret of ["canary-fatal-s3cr3t", "alice-token-0123", "admin-token-0123"]) {
      expect(line).not.toContain(secret);
    }
  });

  it("still writes a line when the error cannot even be read", () => {
    const hostile = new Proxy(
      {},
      {
        ownKeys() {
          throw new Error("no");
        },
      },
    );
    expect(JSON.parse(fatalReport(hostile, "berth crashed", new SecretRegistry().system))).toMatchObject({
      msg: "berth crashed",
    });
  });
});
