import { existsSync } from "node:fs";
import { stat } from "node:fs/promises";
import { beforeAll, describe, expect, it } from "vitest";
import type { ContainerInfo } from "#protocol";
import { type Client, docker, echoCode, useTestServer } from "../helpers/test-server.ts";

describe("container lifecycle through the client SDK", () => {
  const server = useTestServer();
  let alice: Client;

  beforeAll(async () => {
    alice = await server.connect("alice");
  });

  it("creates, reports, stops, starts, restarts and deletes a container, leaving nothing behind", async () => {
    const bot = await alice.containers.create({ name: "weather-bot", code: await echoCode() });
    const created = bot.info;
    expect(bot.name).toBe("weather-bot");
    expect(bot.id).toBe(created.id);
    expect(created).toMatchObject({ name: "weather-bot", owner: "alice", state: "running", release: 1 });
    expect(created.id).toMatch(/^C[0-9A-Z]{11}$/);
    expect(created.channel?.connected).toBe(true);

    const byName = await alice.containers.get("weather-bot");
    expect(byName.id).toBe(created.id);

    const stopped = await bot.stop();
    expect(stopped.state).toBe("stopped");
    const engineStopped = await docker.getContainer(`berth-${created.id}`).inspect();
    expect(engineStopped.State.Running).toBe(false);

    const started = await bot.start();
    expect(started.state).toBe("running");
    expect(started.channel?.connected).toBe(true);

    // The handle got by name acts on the same container.
    const restarted = await byName.restart();
    expect(restarted.state).toBe("running");
    expect(restarted.startedAt).toBeGreaterThan(started.startedAt ?? 0);

    const deleted = await bot.delete();
    expect(deleted).toEqual({ id: created.id, deleted: true });
    await expect(docker.getContainer(`berth-${created.id}`).inspect()).rejects.toMatchObject({
      statusCode: 404,
    });
    expect(existsSync(`${server.dataDir}/run/${created.id}`)).toBe(false);
    expect(existsSync(`${server.dataDir}/code/${created.id}`)).toBe(false);
    await expect(bot.status()).rejects.toMatchObject({ code: "NOT_FOUND", category: "validation" });

    // Deleting again is not an error: a client that lost the first answer may ask twice.
    expect(await bot.delete()).toEqual({ deleted: false });
  });

  it("answers NAME_CONFLICT with the existing id", async () => {
    const first = await alice.containers.create({ name: "dup", code: await echoCode(), start: false });
    await expect(
      alice.containers.create({ name: "dup", code: await echoCode(), start: false }),
    ).rejects.toMatchObject({ code: "NAME_CONFLICT", details: { id: first.id } });
    await first.delete();
  });

  it("hardens every container, as read back from the engine", async () => {
    const c = await alice.containers.create({
      name: "hardened",
      code: await echoCode(),
      resources: { memoryMb: 128, cpus: 0.5, pids: 64 },
    });
    const info = await docker.getContainer(`berth-${c.id}`).inspect();
    const h = info.HostConfig;
    expect(h.Privileged).toBe(false);
    expect(h.ReadonlyRootfs).toBe(true);
    expect(h.CapDrop).toEqual(["ALL"]);
    expect(h.SecurityOpt).toContain("no-new-privileges");
    expect(h.Init).toBe(true);
    expect(h.Memory).toBe(128 * 1024 * 1024);
    expect(h.NanoCpus).toBe(500_000_000);
    expect(h.PidsLimit).toBe(64);
    expect(h.NetworkMode).toBe("none");
    expect(h.RestartPolicy?.Name).toBe("no");
    expect(h.LogConfig).toMatchObject({ Type: "json-file", Config: { "max-size": "10m", "max-file": "3" } });
    expect(h.Tmpfs).toHaveProperty("/tmp");
    const uid = Number(info.Config.User.split(":")[0]);
    expect(uid).toBeGreaterThanOrEqual(200_000);
    const mounts = info.Mounts.map((m) => ({ dest: m.Destination, rw: m.RW, src: m.Source }));
    expect(mounts).toContainEqual({ dest: "/run/berth", rw: false, src: `${server.dataDir}/run/${c.id}` });
    expect(mounts).toContainEqual({
      dest: "/run/berth-code",
      rw: false,
      src: `${server.dataDir}/code/${c.id}`,
    });
    expect(mounts).toHaveLength(2);
    expect(mounts.some((m) => m.src.includes("docker.sock"))).toBe(false);
    expect(info.Config.Env).toContain("BERTH_SOCKET=/run/berth/berth.sock");
    expect(info.Config.Labels).toMatchObject({
      "berth.id": c.id,
      "berth.owner": "alice",
      "berth.managed": "true",
      "berth.instance": server.berth.instanceId,
    });
    const dir = await stat(`${server.dataDir}/run/${c.id}`);
    expect(dir.uid).toBe(0);
    expect(dir.mode & 0o777).toBe(0o755);
    const sock = await stat(`${server.dataDir}/run/${c.id}/berth.sock`);
    expect(sock.uid).toBe(uid);
    expect(sock.mode & 0o777).toBe(0o600);
    await c.delete();
  });

  it("gives each container its own uid and serves 20 parallel creates", async () => {
    const code = await echoCode();
    const created = await Promise.all(
      Array.from({ length: 20 }, (_, i) => alice.containers.create({ name: `par-${i}`, code })),
    );
    expect(created.every((c) => c.info.state === "running")).toBe(true);
    const uids = await Promise.all(
      created.map(async (c) => (await docker.getContainer(`berth-${c.id}`).inspect()).Config.User),
    );
    expect(new Set(uids).size).toBe(20);
    const pars = alice.containers.list({ filter: { namePrefix: "par-" }, pageSize: 15 });
    const page1 = await pars.page({ limit: 15 });
    expect(page1.items).toHaveLength(15);
    const page2 = await pars.page({ limit: 15, ...(page1.nextCursor ? { cursor: page1.nextCursor } : {}) });
    expect(page1.nextCursor).toBeDefined();
    expect(page2.items).toHaveLength(5);
    expect(page2.nextCursor).toBeUndefined();
    expect(new Set([...page1.items, ...page2.items].map((c) => c.id)).size).toBe(20);
    // Iterated, the list goes over both pages, in the same order.
    const all: ContainerInfo[] = [];
    for await (const c of pars) all.push(c);
    expect(all.map((c) => c.id)).toEqual([...page1.items, ...page2.items].map((c) => c.id));
    await Promise.all(created.map((c) => c.delete()));
    expect(await pars.page()).toMatchObject({ items: [] });
  });
});
