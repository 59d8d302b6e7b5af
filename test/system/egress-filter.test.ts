import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { networkInterfaces } from "node:os";
import { PassThrough } from "node:stream";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Container, connect as connectClient } from "../../packages/client/src/index.ts";
import { Berth } from "../../src/berth.ts";
import { EgressFirewall } from "../../src/network/egress-firewall.ts";
import { egressPolicy } from "../../src/network/egress-policy.ts";
import { ExecFileIptables } from "../../src/network/iptables.ts";
import { eventually } from "../helpers/deadline.ts";
import { NEEDS_ROOT } from "../helpers/needs-root.ts";
import { createTestNetns, pickSubnet, type TestNetns } from "../helpers/test-netns.ts";
import {
  type Client,
  docker,
  startTestServer,
  type TestServer,
  TOKENS,
  useTestServer,
} from "../helpers/test-server.ts";

const run = promisify(execFile);
const probeWorkload = readFile(new URL("../fixtures/workloads/probe.js", import.meta.url), "utf8");
const probeCode = async () => ({ files: { "index.js": await probeWorkload } });
const METADATA = "169.254.169.254";

interface Probe {
  connected: boolean;
  error?: string;
  ms: number;
}

/** How long a probe's connection may take: what a DROP rule (no answer at all) would make it wait. */
const PROBE_TIMEOUT_MS = 10_000;

/** Asks the workload to open a TCP connection to host:port, and how it went. */
async function connectFrom(bot: Container, host: string, port: number): Promise<Probe> {
  return bot.request<Probe>({ connect: { host, port, timeoutMs: PROBE_TIMEOUT_MS } });
}

/**
 * What a REJECT rule looks like from the workload's side: a refusal, well before the probe's timeout (the
 * kernel answers at once; the margin is for a loaded machine that runs the workload late).
 */
function expectRejectedAtOnce(probe: Probe): void {
  expect(probe.connected).toBe(false);
  expect(["EHOSTUNREACH", "ECONNREFUSED"]).toContain(probe.error);
  expect(probe.ms).toBeLessThan(PROBE_TIMEOUT_MS / 2);
}

async function gatewayOf(containerId: string): Promise<string> {
  const inspect = await docker.getContainer(`berth-${containerId}`).inspect();
  const network = await docker.getNetwork(inspect.HostConfig.NetworkMode ?? "").inspect();
  const gateway = network.IPAM?.Config?.[0]?.Gateway;
  if (!gateway) throw new Error("the owner network has no IPv4 gateway");
  return gateway;
}

/** The host's own IPv4 addresses other than loopback and Docker's bridges: reached through INPUT too. */
function otherHostAddresses(): string[] {
  return Object.entries(networkInterfaces())
    .filter(([name]) => !name.startsWith("br-") && !name.startsWith("docker") && !name.startsWith("bv"))
    .flatMap(([, addrs]) => addrs ?? [])
    .filter((a) => a.family === "IPv4" && !a.internal)
    .map((a) => a.address);
}

async function rulesOf(server: TestServer): Promise<string[]> {
  const iptables = new ExecFileIptables();
  const tag = `berth:${server.berth.instanceId}`;
  const lines = [
    ...(await iptables.run(["-S", "DOCKER-USER"])).split("\n"),
    ...(await iptables.run(["-S", "INPUT"])).split("\n"),
  ];
  return lines.filter((l) => l.includes(tag));
}

describe.skipIf(NEEDS_ROOT)("egress filter for network 'outbound'", () => {
  // Chosen now: the second server's configuration allows it.
  const lan = pickSubnet();
  let netns: TestNetns;
  let hostListener: Server;
  let hostPort: number;
  const hostAccepted: string[] = [];

  beforeAll(async () => {
    netns = await createTestNetns(lan, [METADATA]);
    hostListener = createServer((s) => {
      hostAccepted.push(s.remoteAddress ?? "");
      s.on("error", () => {});
      s.end();
    });
    await new Promise<void>((resolve) => hostListener.listen(0, "0.0.0.0", resolve));
    hostPort = (hostListener.address() as { port: number }).port;
  });
  afterAll(async () => {
    // Settles even when beforeAll failed before the listener existed (it would otherwise hang the hook).
    await new Promise<void>((resolve) => (hostListener ? hostListener.close(() => resolve()) : resolve()));
    await netns?.destroy();
  });

  /** An egress firewall over the same iptables rules as `server`'s berth: what a host firewall reload or a second berth would touch. */
  function firewallOf(server: TestServer): EgressFirewall {
    return new EgressFirewall({
      iptables: new ExecFileIptables(),
      policy: egressPolicy([], []),
      instanceId: server.berth.instanceId,
      log: server.berth.log,
    });
  }

  describe("with the default policy", () => {
    const server = useTestServer({ BERTH_ALLOW_NETWORK: "true" });
    let alice: Client;
    let bob: Client;
    let aliceBot: Container;
    let bobBot: Container;

    beforeAll(async () => {
      [alice, bob] = await Promise.all([server.connect("alice"), server.connect("bob")]);
      [aliceBot, bobBot] = await Promise.all([
        alice.containers.create({ name: "probe", network: "outbound", code: await probeCode() }),
        bob.containers.create({ name: "probe", network: "outbound", code: await probeCode() }),
      ]);
    });

    it("says at start that the filter is in place", () => {
      expect(server.logs()).toContain("egress filter available");
    });

    it("refuses at once a connection to the host through the bridge's gateway, and to the host's other addresses", async () => {
      expectRejectedAtOnce(await connectFrom(aliceBot, await gatewayOf(aliceBot.id), hostPort));
      for (const address of otherHostAddresses()) {
        expectRejectedAtOnce(await connectFrom(aliceBot, address, hostPort));
      }
      expect(hostAccepted).toEqual([]);
    });

    it("refuses at once the metadata address (169.254.169.254) and another private range", async () => {
      expectRejectedAtOnce(await connectFrom(aliceBot, METADATA, netns.port));
      expectRejectedAtOnce(await connectFrom(aliceBot, netns.address, netns.port));
      expect(netns.accepted).toEqual([]);
    });

    it("keeps bob's outbound container from alice's, on its own bridge", async () => {
      const { addresses } = await aliceBot.request<{ addresses: string[] }>({ listen: 8080 });
      expect(addresses).toHaveLength(1);
      expectRejectedAtOnce(await connectFrom(bobBot, addresses[0] as string, 8080));
    });

    it("gives the workload no IPv6 address, so no IPv6 path exists for the filter to miss", async () => {
      const interfaces = await aliceBot.request<Record<string, Array<{ family: string }>>>({
        interfaces: true,
      });
      expect(
        Object.values(interfaces)
          .flat()
          .filter((a) => a.family !== "IPv4"),
      ).toEqual([]);
    });

    it("installs one set of rules per owner bridge, and removes them with the bridge", async () => {
      expect(await rulesOf(server)).toHaveLength(4); // alice's and bob's bridges, DOCKER-USER and INPUT each
      await aliceBot.delete();
      expect(await rulesOf(server)).toHaveLength(2);
      await bobBot.delete();
      expect(await rulesOf(server)).toEqual([]);
    });
  });

  describe("with a private range allowed by the operator", () => {
    const server = useTestServer({
      BERTH_ALLOW_NETWORK: "true",
      BERTH_EGRESS_ALLOW: `${lan.subnet}`,
    });

    it("reaches the allowed range, and nothing else that is blocked", async () => {
      const alice = await server.connect("alice");
      const bot = await alice.containers.create({
        name: "probe",
        network: "outbound",
        code: await probeCode(),
      });
      const { id } = bot;
      const reached = await connectFrom(bot, netns.address, netns.port);
      expect(reached).toMatchObject({ connected: true });
      // The namespace's listener reports over a pipe, a moment after the workload's answer.
      await eventually(
        15_000, // a moment on a quiet machine, more on a loaded one
        "the namespace's listener saw the connection",
        () => netns.accepted.length === 1,
      );
      expectRejectedAtOnce(await connectFrom(bot, METADATA, netns.port));
      expectRejectedAtOnce(await connectFrom(bot, await gatewayOf(id), hostPort));
      expect(hostAccepted).toEqual([]);
      await bot.delete();
    });
  });

  describe("where iptables is missing", () => {
    const server = useTestServer(
      { BERTH_ALLOW_NETWORK: "true" },
      { iptables: new ExecFileIptables("/nonexistent/iptables") },
    );

    it("says so at start, refuses network 'outbound' with EGRESS_FILTER_UNAVAILABLE and runs nothing unfiltered", async () => {
      expect(server.logs()).toContain("egress filter unavailable");
      const alice = await server.connect("alice");
      await expect(
        alice.containers.create({ name: "probe", network: "outbound", code: await probeCode() }),
      ).rejects.toMatchObject({ code: "EGRESS_FILTER_UNAVAILABLE" });
      const left = await docker.listContainers({
        all: true,
        filters: { label: [`berth.instance=${server.berth.instanceId}`] },
      });
      expect(left).toEqual([]);
      // Without network, containers are unaffected.
      await (await alice.containers.create({ name: "offline", code: await probeCode() })).delete();
    });
  });

  describe("when its rules are lost", () => {
    it("puts them back within the re-check period while berth runs (a host firewall reload)", async () => {
      const server = await startTestServer({ BERTH_ALLOW_NETWORK: "true" }, { egressRecheckMs: 200 });
      try {
        const alice = await server.connect("alice");
        const bot = await alice.containers.create({
          name: "probe",
          network: "outbound",
          code: await probeCode(),
        });
        const { id } = bot;
        const before = await rulesOf(server);
        expect(before).toHaveLength(2);
        const firewall = firewallOf(server);
        // berth re-checks every 200 ms and may link its chain again between the sweep's unlink and its
        // delete (iptables: "Device or resource busy"); a sweep that went through removed every rule.
        // iptables waits for its lock, which a loaded machine can hold for seconds.
        await eventually(20_000, "a sweep that removes the rules", async () =>
          firewall.sweep(new Set()).then(
            () => true,
            () => false,
          ),
        );
        await eventually(20_000, "the rules are back", async () => (await rulesOf(server)).length === 2);
        expect(await rulesOf(server)).toEqual(before);
        expectRejectedAtOnce(await connectFrom(bot, await gatewayOf(id), hostPort));
      } finally {
        await server.close();
      }
    });

    it("puts the filter back at start on a bridge that lost it, and removes the rules of a bridge that is gone", async () => {
      const server = await startTestServer({ BERTH_ALLOW_NETWORK: "true" });
      let second: Berth | undefined;
      try {
        const alice = await server.connect("alice");
        const bot = await alice.containers.create({
          name: "probe",
          network: "outbound",
          code: await probeCode(),
        });
        const { id } = bot;
        await server.stop(); // the container keeps running
        const firewall = firewallOf(server);
        // While berth is away: a firewall reload flushes its rules, and a stale bridge's rules are left over.
        await firewall.sweep(new Set());
        await firewall.protect("br-feedfacecafe");
        expect(await rulesOf(server)).toHaveLength(2);

        second = await Berth.open(server.berth.config, { logDestination: new PassThrough() });
        const port = await second.start();
        const rules = await rulesOf(server);
        expect(rules).toHaveLength(2);
        expect(rules.join("\n")).not.toContain("br-feedfacecafe");
        const client = await connectClient(`http://127.0.0.1:${port}`, {
          token: TOKENS.alice,
          reconnect: false,
        });
        try {
          const again = await client.containers.get(id);
          await eventually(10_000, "the workload reconnected", async () => {
            const status = await again.status();
            return status.channel?.connected === true;
          });
          expectRejectedAtOnce(await connectFrom(again, await gatewayOf(id), hostPort));
        } finally {
          await client.close();
        }
      } finally {
        await second?.close();
        await server.close();
      }
    });
  });

  it("left no namespace of its own behind from an earlier run", async () => {
    const { stdout } = await run("ip", ["netns", "list"]);
    expect(stdout.split("\n").filter((l) => l.startsWith("berth-t-")).length).toBeLessThanOrEqual(1);
  });
});
