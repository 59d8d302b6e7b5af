import { execFileSync } from "node:child_process";
import { beforeAll, describe, expect, it } from "vitest";
import { helloThen, nextStatus } from "../helpers/events.ts";
import { type Client, useTestServer } from "../helpers/test-server.ts";

describe("status changes pushed from the engine's event stream", () => {
  const server = useTestServer();
  let alice: Client;

  beforeAll(async () => {
    alice = await server.connect("alice");
  });

  it("reports a workload that exits with code 3 as exited with code 3", async () => {
    const exited = nextStatus(alice, (e) => e.name === "exit3" && e.to === "exited");
    const bot = await alice.containers.create({
      name: "exit3",
      code: helloThen("welcome.then(() => setTimeout(() => process.exit(3), 300));"),
    });
    const e = await exited;
    expect(e).toMatchObject({ from: "running", to: "exited", exitCode: 3 });
    expect((await bot.status()).exitCode).toBe(3);
    await bot.delete();
  });

  it("reports a container stopped behind berth's back with the docker CLI", async () => {
    const c = await alice.containers.create({
      name: "cli-stopped",
      code: helloThen("setInterval(() => {}, 1e6);"),
    });
    const exited = nextStatus(alice, (e) => e.id === c.id && e.to === "exited");
    execFileSync("docker", ["stop", "-t", "1", `berth-${c.id}`]);
    expect(await exited).toMatchObject({ from: "running", to: "exited" });
    await c.delete();
  });

  it("reports a workload killed for using more memory than its limit as OOM-killed", async () => {
    const oom = nextStatus(alice, (e) => e.name === "hungry" && e.to === "exited");
    const bot = await alice.containers.create({
      name: "hungry",
      resources: { memoryMb: 32 },
      code: helloThen(
        "const hog = []; welcome.then(() => setTimeout(() => { for (;;) hog.push(Buffer.alloc(1 << 20, 1)); }, 200));",
      ),
    });
    const e = await oom;
    expect(e.oomKilled).toBe(true);
    expect(e.exitCode).toBe(137);
    await bot.delete();
  });
});
