import { PassThrough } from "node:stream";
import { BerthError } from "@berth/client";
import { describe, expect, it } from "vitest";
import { CliError, EXIT } from "../src/cli-error.ts";
import { Output } from "../src/output/output.ts";
import { printError } from "../src/output/print-error.ts";

function capture(color = false): { out: Output; text: () => string } {
  const stderr = new PassThrough();
  let text = "";
  stderr.on("data", (c: Buffer) => {
    text += c.toString();
  });
  const out = new Output({ json: false, interactive: false, color, stdout: new PassThrough(), stderr });
  return { out, text: () => text };
}

describe("printError", () => {
  it("prints `error CODE: message` for berth's errors and answers exit code 1", () => {
    const { out, text } = capture();
    const err = new BerthError({
      code: "NOT_FOUND",
      category: "validation",
      retryable: false,
      message: "No such container.",
    });
    expect(printError(out, err)).toBe(EXIT.FAILED);
    expect(text()).toBe("error NOT_FOUND: No such container.\n");
  });

  it("adds the cause of a rolled-back update: cause, exit code, step and the last output lines", () => {
    const { out, text } = capture();
    const err = new BerthError({
      code: "UPDATE_ROLLED_BACK",
      category: "communication",
      retryable: false,
      message: "Release 2 did not come up (the process exited with code 3); release 1 is running again.",
      details: {
        release: 2,
        restoredRelease: 1,
        failedStep: "ready",
        cause: "exited",
        exitCode: 3,
        output: ["a", "b"],
      },
    });
    printError(out, err);
    expect(text().split("\n")).toEqual([
      "error UPDATE_ROLLED_BACK: Release 2 did not come up (the process exited with code 3); release 1 is running again.",
      "  cause: exited, exit code: 3, failed step: ready",
      "  last output:",
      "    | a",
      "    | b",
      "",
    ]);
  });

  it("says when a workload that did not become ready printed nothing", () => {
    const { out, text } = capture();
    printError(
      out,
      new BerthError({
        code: "NOT_READY",
        category: "communication",
        retryable: false,
        message: "The workload never connected.",
        details: { cause: "never_connected", output: [] },
      }),
    );
    expect(text()).toContain("  cause: never_connected\n  last output: (none)\n");
  });

  it("gives UNAUTHORIZED a hint that names the ways to pass a token", () => {
    const { out, text } = capture();
    printError(
      out,
      new BerthError({
        code: "UNAUTHORIZED",
        category: "auth",
        retryable: false,
        message: "A valid token is required.",
      }),
    );
    expect(text()).toMatch(
      /hint: pass the token with --token T, set BERTH_TOKEN, or save it with `berth login/,
    );
  });

  it("prints the CLI's own errors as `error: message` with their exit code, and a coded plain error with its code", () => {
    const { out, text } = capture();
    expect(printError(out, new CliError("--tail must be a whole number"))).toBe(EXIT.USAGE);
    const coded = Object.assign(new Error("'sock' is a socket"), { code: "VALIDATION_FAILED" });
    expect(printError(out, coded)).toBe(EXIT.FAILED);
    expect(printError(out, new Error("ENOENT: no such file"))).toBe(EXIT.FAILED);
    expect(text().split("\n")).toEqual([
      "error: --tail must be a whole number",
      "error VALIDATION_FAILED: 'sock' is a socket",
      "error: ENOENT: no such file",
      "",
    ]);
  });

  it("colours only when asked to", () => {
    const { out, text } = capture(true);
    printError(out, new CliError("x"));
    expect(text()).toBe("\x1b[31merror\x1b[39m: x\n");
  });
});
