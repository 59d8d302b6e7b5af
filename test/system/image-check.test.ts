import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ImageCheckResult } from "#protocol";
import { eventually } from "../helpers/deadline.ts";
import { type Client, call, docker, startTestServer, useTestServer } from "../helpers/test-server.ts";
import { buildThrowawayImage, removeImage } from "../helpers/throwaway-image.ts";

/** The node runtime image as the lead's new recipe labels it: what `berth image check` reads. */
const LABELLED_NODE = `FROM berth/runtime-node:24
LABEL berth.runtime=node berth.entry=index.js berth.command="[\\"node\\",\\"index.js\\"]" berth.protocol=1
CMD ["node", "index.js"]
`;
/** Built FROM a runtime image that may carry berth's labels: "" unsets them (an image cannot drop them). */
const NO_LABELS = `LABEL berth.runtime="" berth.entry="" berth.command="" berth.protocol=""`;
const EXITS_AT_ONCE = `FROM berth/runtime-node:24
${NO_LABELS}
CMD ["node", "-e", "console.log('starting up'); console.error('no config found in /etc/bot'); process.exit(3)"]
`;
const NEVER_CONNECTS = `FROM berth/runtime-node:24
${NO_LABELS}
CMD ["node", "-e", "setTimeout(() => {}, 1e9)"]
`;

/**
 * How long a check waits for the workload here: the test server's ready timeout bounds it. Waited out by the
 * silent image, and raced by the good ones: long enough for a loaded machine to start one and hear it.
 */
const CONNECT_BOUND_MS = 12_000;

function statuses(result: ImageCheckResult): Record<string, string> {
  return Object.fromEntries(result.checks.map((c) => [c.name, c.status]));
}

/**
 * Engine containers of this berth (the servers here make none but the checks'), and what is left in
 * its code and run directories.
 */
async function leftBehind(instanceId: string, dataDir: string): Promise<string[]> {
  const containers = await docker.listContainers({
    all: true,
    filters: { label: [`berth.instance=${instanceId}`] },
  });
  const entries = async (dir: string) => (await readdir(dir).catch(() => [])).map((e) => join(dir, e));
  return [
    ...containers.map((c) => `container ${c.Names.join(",")}`),
    ...(await entries(join(dataDir, "code"))),
    ...(await entries(join(dataDir, "run"))),
  ];
}

describe("image:check — can berth run workloads in this image?", () => {
  const server = useTestServer({ BERTH_READY_TIMEOUT_MS: String(CONNECT_BOUND_MS) });
  const images: Record<"good" | "exits" | "silent", string> = { good: "", exits: "", silent: "" };
  let admin: Client;

  beforeAll(async () => {
    [images.good, images.exits, images.silent] = await Promise.all([
      buildThrowawayImage(LABELLED_NODE, "imgcheck-good"),
      buildThrowawayImage(EXITS_AT_ONCE, "imgcheck-exits"),
      buildThrowawayImage(NEVER_CONNECTS, "imgcheck-silent"),
    ]);
    admin = await server.connect("admin");
  });

  afterAll(async () => {
    await Promise.all(Object.values(images).map((tag) => (tag ? removeImage(tag) : undefined)));
  });

  it("passes every check of a labelled runtime image, with berth's node probe as its code", async () => {
    const result = await admin.images.check(images.good);
    expect(result.checks.filter((c) => c.status !== "passed")).toEqual([]);
    expect(result).toMatchObject({ ok: true, image: images.good, allowed: false, runtime: "node" });
    expect(result.code).toBe("probe");
    expect(result.protocol).toBe(1);
    const byName = Object.fromEntries(result.checks.map((c) => [c.name, c.summary]));
    expect(byName.start).toMatch(/^started as uid \d+:\d+, read-only root, no capabilities, no network$/);
    expect(byName.workdir).toMatch(
      /^uid \d+ read 1 entry of \/run\/berth-code\/current \(\/run\/berth-code\/releases\/1\)$/,
    );
    expect(byName.labels).toContain("berth.runtime=node");
    expect(await leftBehind(server.berth.instanceId, server.dataDir)).toEqual([]);
  });

  it("fails an image whose command exits at once, with its exit code and its output", async () => {
    const result = await admin.images.check(images.exits);
    expect(result.ok).toBe(false);
    expect(statuses(result)).toEqual({
      image: "passed",
      labels: "passed",
      command: "passed",
      entry: "passed",
      start: "passed",
      workdir: "skipped",
      connect: "failed",
      request: "skipped",
    });
    expect(result.code).toBe("none");
    expect(result.exitCode).toBe(3);
    expect(result.output).toEqual(expect.arrayContaining(["starting up", "no config found in /etc/bot"]));
    const connect = result.checks.find((c) => c.name === "connect");
    expect(connect?.summary).toContain("exited with code 3");
    expect(connect?.fix).toBeTruthy();
    expect(await leftBehind(server.berth.instanceId, server.dataDir)).toEqual([]);
  });

  it("fails the connect check of a workload that never connects, within the bound", async () => {
    const result = await admin.images.check(images.silent);
    expect(result.ok).toBe(false);
    expect(statuses(result)).toMatchObject({ start: "passed", connect: "failed", request: "skipped" });
    expect(result.checks.find((c) => c.name === "connect")?.summary).toContain(
      `did not connect to BERTH_SOCKET within ${CONNECT_BOUND_MS} ms`,
    );
    // Bounded by that wait, plus starting and removing a container, which a loaded machine can take seconds for.
    expect(result.ms).toBeLessThan(CONNECT_BOUND_MS + 15_000);
    expect(await leftBehind(server.berth.instanceId, server.dataDir)).toEqual([]);
  });

  it("fails an image the engine does not have, saying how to build it, and runs nothing", async () => {
    const result = await admin.images.check("berth-test/no-such-image:1");
    expect(result.ok).toBe(false);
    expect(statuses(result)).toEqual({
      image: "failed",
      labels: "skipped",
      command: "skipped",
      entry: "skipped",
      start: "skipped",
      workdir: "skipped",
      connect: "skipped",
      request: "skipped",
    });
    expect(result.checks[0]?.fix).toContain("docker build -t berth-test/no-such-image:1");
    expect(await leftBehind(server.berth.instanceId, server.dataDir)).toEqual([]);
  });

  it("runs the caller's code instead of a probe, and reports an entry file it lacks", async () => {
    const result = await admin.images.check(images.good, {
      code: { files: { "app.js": "require('@berth/workload').connect().onRequest((d) => d);\n" } },
    });
    expect(result.code).toBe("given");
    expect(statuses(result)).toMatchObject({ entry: "failed", connect: "failed" });
    expect(result.output?.join("\n")).toContain("Cannot find module '/run/berth-code/releases/1/index.js'");
    expect(await leftBehind(server.berth.instanceId, server.dataDir)).toEqual([]);
  });

  it("refuses an owner, alice, with FORBIDDEN, whatever she sends, and makes nothing", async () => {
    const alice = await server.connect("alice");
    // Bob, another owner, sees nothing of an admin's check: no status change, no activity, no message.
    const bob = await server.connectRaw("bob");
    const seenByBob: string[] = [];
    bob.onAny((event: string) => seenByBob.push(event));
    expect((await admin.images.check(images.good)).ok).toBe(true);
    for (const payload of [{ image: images.good }, { image: "NOT AN IMAGE" }, { nonsense: true }]) {
      const res = await call(alice, "image:check", payload);
      expect(res).toMatchObject({
        ok: false,
        error: { code: "FORBIDDEN", category: "auth", retryable: false },
      });
    }
    await expect(alice.images.check(images.good)).rejects.toMatchObject({ code: "FORBIDDEN" });
    expect(seenByBob).toEqual([]);
    expect(await leftBehind(server.berth.instanceId, server.dataDir)).toEqual([]);
  });

  it("refuses the admin's bad input with VALIDATION_FAILED", async () => {
    for (const payload of [
      { image: "Not An Image!" },
      { image: "" },
      { image: "a".repeat(300) },
      { image: images.good, extra: 1 },
      { image: images.good, code: { files: { "../escape.js": "x" } } },
    ]) {
      const res = await call(admin, "image:check", payload);
      expect(res, JSON.stringify(payload).slice(0, 80)).toMatchObject({
        ok: false,
        error: { code: "VALIDATION_FAILED" },
      });
    }
    expect(await leftBehind(server.berth.instanceId, server.dataDir)).toEqual([]);
  });
});

/** berth's runtime images as set-up builds them now (labelled), or undefined while the engine has an older build. */
const RUNTIME_IMAGES = ["berth/runtime-node:24", "berth/runtime-python:3.11"] as const;
const labelled = Object.fromEntries(
  await Promise.all(
    RUNTIME_IMAGES.map(async (image) => {
      const info = await docker
        .getImage(image)
        .inspect()
        .catch(() => undefined);
      return [image, info?.Config.Labels?.["berth.runtime"]] as const;
    }),
  ),
);

describe("image:check on berth's own runtime images", () => {
  const server = useTestServer();

  for (const image of RUNTIME_IMAGES) {
    const runtime = labelled[image];
    it(`passes every check of ${image} with berth's ${runtime ?? ""} probe`, async () => {
      const admin = await server.connect("admin");
      const result = await admin.images.check(image);
      expect(result.checks.filter((c) => c.status !== "passed")).toEqual([]);
      // Every runtime image is allowed (BERTH_RUNTIME_IMAGES), without being listed in BERTH_ALLOWED_IMAGES.
      expect(result).toMatchObject({ ok: true, allowed: true, runtime });
      expect(result.code).toBe("probe");
      expect(await leftBehind(server.berth.instanceId, server.dataDir)).toEqual([]);
    });
  }
});

describe("image:check while berth shuts down", () => {
  it("removes the check's container and directories when berth stops in the middle of it", async () => {
    const server = await startTestServer({ BERTH_READY_TIMEOUT_MS: "30000" });
    const silent = await buildThrowawayImage(NEVER_CONNECTS, "imgcheck-silent");
    try {
      const admin = await server.connect("admin");
      const checking = admin.images.check(silent).catch((err: unknown) => err);
      await eventually(10_000, "the check's container running", async () => {
        const running = await docker.listContainers({
          filters: { label: [`berth.instance=${server.berth.instanceId}`, "berth.check=image"] },
        });
        return running.length === 1;
      });
      await server.berth.close();
      expect(await leftBehind(server.berth.instanceId, server.dataDir)).toEqual([]);
      await checking;
    } finally {
      await server.close();
      await removeImage(silent);
    }
  });
});
