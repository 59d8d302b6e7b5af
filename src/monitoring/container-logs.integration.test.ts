import { PassThrough } from "node:stream";
import Dockerode from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LogLine } from "#protocol";
import { eventually, within } from "../../test/helpers/deadline.ts";
import { DockerodeClient } from "../docker/dockerode-client.ts";
import { Redactor } from "../logging/redactor.ts";
import { MAX_LOG_LINE_LENGTH, TRUNCATION_MARKER } from "../logging/sanitize-log-line.ts";
import { SecretRegistry } from "../logging/secret-registry.ts";
import { createSystemLogger } from "../logging/system-logger.ts";
import type { ContainerRecord } from "../store/store-ports.ts";
import { ContainerLogs } from "./container-logs.ts";
import { LogLineSplitter } from "./log-line-splitter.ts";
import { removeLabelled, startContainer, testLabel } from "./testing/engine-test-helpers.ts";

const docker = new Dockerode({ socketPath: "/var/run/docker.sock" });
const labels = testLabel();

// Writes what a real workload writes: plain lines on both streams, colours, a
// bell, a line longer than the engine's 16 KiB message buffer, non-ASCII text,
// and a last line without a newline.
const SCRIPT = `
process.stdout.write("starting\\n");
process.stderr.write("\\x1b[33mwarning\\x1b[0m: disk at 91%\\x07\\n");
process.stdout.write("x".repeat(40000) + "\\n");
process.stdout.write("prix: 5 € — 日本\\n");
process.stdout.write("no newline at the end");
`;

let dockerId: string;
let startedAt: number;

beforeAll(async () => {
  startedAt = Date.now();
  const container = await startContainer(docker, labels, ["node", "-e", SCRIPT]);
  dockerId = container.id;
  await container.wait();
}, 60_000);

afterAll(async () => {
  await removeLabelled(docker, labels);
}, 60_000);

function expectTheLines(lines: LogLine[]): void {
  const stdout = lines.filter((l) => l.stream === "stdout").map((l) => l.text);
  const stderr = lines.filter((l) => l.stream === "stderr").map((l) => l.text);
  expect(stderr).toEqual(["warning: disk at 91%\\x07"]);
  expect(stdout).toHaveLength(4);
  expect(stdout[0]).toBe("starting");
  expect(stdout[1]).toHaveLength(MAX_LOG_LINE_LENGTH);
  expect(stdout[1]).toBe("x".repeat(MAX_LOG_LINE_LENGTH - TRUNCATION_MARKER.length) + TRUNCATION_MARKER);
  expect(stdout[2]).toBe("prix: 5 € — 日本");
  expect(stdout[3]).toBe("no newline at the end");
  for (const line of lines) {
    expect(line.ts).toBeGreaterThan(startedAt - 5000);
    expect(line.ts).toBeLessThan(Date.now() + 5000);
  }
}

describe("log lines from the real engine", () => {
  it("splits a container's logs fetched at once", async () => {
    const raw = await docker
      .getContainer(dockerId)
      .logs({ follow: false, stdout: true, stderr: true, timestamps: true });
    // Fed in odd-sized chunks, as a socket would deliver them.
    const splitter = new LogLineSplitter();
    const lines: LogLine[] = [];
    for (let pos = 0; pos < raw.length; pos += 1000)
      lines.push(...splitter.push(raw.subarray(pos, pos + 1000)));
    lines.push(...splitter.end());
    expectTheLines(lines);
  });

  it("splits a followed log stream as its chunks arrive", async () => {
    const stream = await docker
      .getContainer(dockerId)
      .logs({ follow: true, stdout: true, stderr: true, timestamps: true });
    const splitter = new LogLineSplitter();
    const lines: LogLine[] = [];
    // The container has exited, so the followed stream ends after the last line.
    for await (const chunk of stream as AsyncIterable<Buffer>) lines.push(...splitter.push(chunk));
    lines.push(...splitter.end());
    expectTheLines(lines);
  });
});

describe("following a container's output from now on", () => {
  const followLabels = testLabel();
  afterAll(async () => {
    await removeLabelled(docker, followLabels);
  }, 60_000);

  it("delivers every line written from the moment it was asked, and none from before", async () => {
    // A line every 10 ms, numbered: a line lost while the engine attaches shows as a gap.
    const container = await startContainer(docker, followLabels, [
      "node",
      "-e",
      'let n = 0; setInterval(() => console.log("line " + n++), 10);',
    ]);
    const log = createSystemLogger({
      level: "silent",
      redactor: new Redactor(),
      destination: new PassThrough(),
    });
    const logs = new ContainerLogs(
      new DockerodeClient({ socketPath: "/var/run/docker.sock", log }),
      new SecretRegistry(),
    );
    // Lines from before the follow, which it must not replay (the engine's `since` counts whole seconds):
    // awaited rather than slept for, since a loaded machine may take longer to start writing them.
    await eventually(15_000, "lines written before the follow", async () => {
      const before = await container.logs({ stdout: true, tail: 1 });
      return before.length > 0;
    });
    const asked = Date.now();
    const seen: LogLine[] = [];
    const enough = Promise.withResolvers<void>();
    const record = { id: "c1", owner: "alice", dockerId: container.id } as ContainerRecord;
    const sub = await logs.follow(record, {}, (line) => {
      seen.push(line);
      if (seen.length === 50) enough.resolve();
    });
    try {
      await within(15_000, "50 followed lines", enough.promise);
    } finally {
      sub.close();
    }
    const numbers = seen.map((l) => Number(l.text.replace("line ", "")));
    expect(numbers).toEqual(numbers.map((_, i) => (numbers[0] as number) + i));
    expect(seen.every((l) => l.ts >= asked)).toBe(true);
  }, 30_000);
});
