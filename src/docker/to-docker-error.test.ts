import { globSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DockerError, DockerUnavailableError, NotFoundError, ValidationError } from "../errors/errors.ts";
import { isTransient, toDockerError } from "./to-docker-error.ts";

const withCode = (code: string) => Object.assign(new Error(`connect ${code} /var/run/docker.sock`), { code });
const withStatus = (statusCode: number) =>
  Object.assign(new Error(`(HTTP code ${statusCode}) engine text`), { statusCode });

describe("toDockerError", () => {
  it.each(["ECONNREFUSED", "ENOENT", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EAI_AGAIN", "EHOSTUNREACH"])(
    "takes %s as the engine not being there",
    (code) => {
      const err = toDockerError(withCode(code), "container start");
      expect(err).toBeInstanceOf(DockerUnavailableError);
      expect(err.details).toEqual({ op: "container start" });
      expect(isTransient(err)).toBe(true);
    },
  );

  it("takes a socket hung up (a timed-out request, an engine going away) as the engine not being there", () => {
    expect(toDockerError(new Error("socket hang up"), "ping")).toBeInstanceOf(DockerUnavailableError);
  });

  it("makes a 404 NOT_FOUND, never worth a retry", () => {
    const err = toDockerError(withStatus(404), "container inspect");
    expect(err).toBeInstanceOf(NotFoundError);
    expect(isTransient(err)).toBe(false);
  });

  it("keeps the engine's status, and only a 5xx is worth a retry", () => {
    for (const [status, retryable] of [
      [400, false],
      [409, false],
      [500, true],
      [503, true],
    ] as const) {
      const err = toDockerError(withStatus(status), "container create");
      expect(err).toBeInstanceOf(DockerError);
      expect(err).toMatchObject({
        statusCode: status,
        retryable,
        details: { op: "container create", statusCode: status },
      });
      expect(isTransient(err)).toBe(retryable);
    }
  });

  it("shows the client its own words and keeps the engine's text in the cause", () => {
    const cause = withStatus(500);
    const err = toDockerError(cause, "container create");
    expect(err.message).toBe("The container engine could not create the container.");
    expect(err.cause).toBe(cause);
  });

  it("takes a failure with neither a socket code nor a status as the engine not being there", () => {
    expect(toDockerError(new Error("something odd"), "events")).toBeInstanceOf(DockerUnavailableError);
    expect(toDockerError("not even an Error", "events")).toBeInstanceOf(DockerUnavailableError);
  });

  it("passes a berth error through unchanged", () => {
    const original = new ValidationError("bad");
    expect(toDockerError(original, "container create")).toBe(original);
    expect(isTransient(original)).toBe(false);
  });

  it("has words for every operation the dockerode adapter names", () => {
    // Read from the adapter's sources, so that a new operation cannot go without them.
    const ops = new Set<string>();
    for (const file of globSync("dockerode-*.ts", { cwd: import.meta.dirname })) {
      if (file.endsWith(".test.ts")) continue;
      const text = readFileSync(join(import.meta.dirname, file), "utf8");
      for (const [, op] of text.matchAll(/(?:\.run\(|toDockerError\(\w+,)\s*"([^"]+)"/g))
        ops.add(op as string);
    }
    expect(ops.size).toBeGreaterThan(15);
    const without = [...ops].filter(
      (op) => toDockerError(withStatus(500), op).message === `The container engine could not ${op}.`,
    );
    expect(without).toEqual([]);
  });
});
