import { beforeAll, describe, expect, it } from "vitest";
import { collectActivity, helloThen, nextActivity } from "../helpers/events.ts";
import { type Client, useTestServer } from "../helpers/test-server.ts";

describe("restart policy", () => {
  const server = useTestServer({ BERTH_MAX_RESTARTS: "3", BERTH_RESTART_BASE_DELAY_MS: "200" });
  let alice: Client;

  beforeAll(async () => {
    alice = await server.connect("alice");
  });

  it("restarts an on-failure workload with growing back-off, and stops at the limit saying why", async () => {
    const feed = collectActivity(alice);
    const gaveUp = nextActivity(
      alice,
      (e) => e.containerName === "crashy" && e.action === "container.restart_gave_up",
    );
    const crashy = await alice.containers.create({
      name: "crashy",
      restartPolicy: "on-failure",
      code: helloThen("welcome.then(() => setTimeout(() => process.exit(2), 100));"),
    });
    const last = await gaveUp;
    feed.stop();
    expect(last.message).toMatch(/stopped restarting it after 3 attempts/);
    const restarts = feed.entries.filter(
      (e) => e.containerName === "crashy" && e.action === "container.crash_restarted",
    );
    expect(restarts.map((e) => e.details?.attempt)).toEqual([1, 2, 3]);
    expect(restarts.map((e) => e.details?.delayMs)).toEqual([200, 400, 800]);
    expect(restarts[0]?.message).toBe(
      "'crashy' stopped unexpectedly (exit code 2) and is being restarted (attempt 1 of 3)",
    );
    expect(await crashy.status()).toMatchObject({ state: "exited", exitCode: 2 });
    await crashy.delete();
  });

  it("does not restart an on-failure workload that exits with code 0", async () => {
    const finished = nextActivity(alice, (e) => e.containerName === "oneshot");
    const exited = nextActivity(
      alice,
      (e) => e.containerName === "oneshot" && e.action === "container.exited",
    );
    const oneshot = await alice.containers.create({
      name: "oneshot",
      restartPolicy: "on-failure",
      code: helloThen("welcome.then(() => setTimeout(() => process.exit(0), 100));"),
    });
    const skip = await exited;
    expect(skip.message).toBe("'oneshot' finished (exit code 0)");
    await finished;
    expect((await oneshot.status()).state).toBe("exited");
    await oneshot.delete();
  });
});
