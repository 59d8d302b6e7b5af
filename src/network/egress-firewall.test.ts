import { PassThrough } from "node:stream";
import { beforeEach, describe, expect, it } from "vitest";
import { Redactor } from "../logging/redactor.ts";
import { createSystemLogger } from "../logging/system-logger.ts";
import { EgressFirewall } from "./egress-firewall.ts";
import { egressPolicy } from "./egress-policy.ts";
import { type Ipv4Cidr, parseIpv4Cidr } from "./ipv4-cidr.ts";
import { FakeIptables } from "./testing/fake-iptables.ts";

const log = createSystemLogger({ level: "silent", redactor: new Redactor(), destination: new PassThrough() });
const cidrs = (...list: string[]) => list.map((c) => parseIpv4Cidr(c) as Ipv4Cidr);

function firewall(iptables: FakeIptables, instanceId = "inst1", allow: string[] = []): EgressFirewall {
  return new EgressFirewall({
    iptables,
    policy: egressPolicy(cidrs(...allow), cidrs("203.0.113.0/24")),
    instanceId,
    log,
  });
}

describe("EgressFirewall", () => {
  let iptables: FakeIptables;
  beforeEach(() => {
    iptables = new FakeIptables();
  });

  it("hooks a forward chain (allowed ranges first, then the blocked) and a host chain (allowed, then reject all) onto the bridge", async () => {
    await firewall(iptables, "inst1", ["10.9.0.0/16"]).protect("br-aaaaaaaaaaaa");
    const [jumpFw] = iptables.chains.get("DOCKER-USER") ?? [];
    const [jumpIn] = iptables.chains.get("INPUT") ?? [];
    expect(jumpFw?.slice(0, 6)).toEqual([
      "-i",
      "br-aaaaaaaaaaaa",
      "-m",
      "comment",
      "--comment",
      "berth:inst1",
    ]);
    expect(jumpIn?.slice(0, 6)).toEqual([
      "-i",
      "br-aaaaaaaaaaaa",
      "-m",
      "comment",
      "--comment",
      "berth:inst1",
    ]);
    const forward = iptables.chains.get(jumpFw?.at(-1) ?? "")?.map((r) => r.join(" "));
    expect(forward?.[0]).toBe("-d 10.9.0.0/16 -j RETURN");
    expect(forward).toContain("-d 169.254.0.0/16 -j REJECT --reject-with icmp-admin-prohibited");
    expect(forward).toContain("-d 10.0.0.0/8 -j REJECT --reject-with icmp-admin-prohibited");
    expect(forward).toContain("-d 172.16.0.0/12 -j REJECT --reject-with icmp-admin-prohibited");
    expect(forward).toContain("-d 192.168.0.0/16 -j REJECT --reject-with icmp-admin-prohibited");
    expect(forward).toContain("-d 100.64.0.0/10 -j REJECT --reject-with icmp-admin-prohibited");
    expect(forward).toContain("-d 203.0.113.0/24 -j REJECT --reject-with icmp-admin-prohibited");
    expect(iptables.chains.get(jumpIn?.at(-1) ?? "")?.map((r) => r.join(" "))).toEqual([
      "-d 10.9.0.0/16 -j RETURN",
      "-j REJECT --reject-with icmp-admin-prohibited",
    ]);
    // Docker's own final RETURN stays last.
    expect(iptables.chains.get("DOCKER-USER")?.at(-1)).toEqual(["-j", "RETURN"]);
  });

  it("is idempotent: protecting a protected bridge again changes nothing", async () => {
    const fw = firewall(iptables);
    await Promise.all([fw.protect("br-aaaaaaaaaaaa"), fw.protect("br-aaaaaaaaaaaa")]);
    const before = iptables.dump();
    await fw.protect("br-aaaaaaaaaaaa");
    expect(iptables.dump()).toEqual(before);
    expect(iptables.chains.get("DOCKER-USER")).toHaveLength(2);
  });

  it("releases one bridge's rules and chains, leaving other bridges and other instances alone", async () => {
    const untouched = new FakeIptables();
    await firewall(untouched, "other").protect("br-cccccccccccc");
    const expected = untouched.dump();
    // Two instances on one host share the table.
    const mine = firewall(iptables, "inst1");
    const theirs = firewall(iptables, "other");
    await theirs.protect("br-cccccccccccc");
    await mine.protect("br-aaaaaaaaaaaa");
    await mine.protect("br-bbbbbbbbbbbb");
    await mine.release("br-aaaaaaaaaaaa");
    await mine.sweep(new Set());
    expect(iptables.dump()).toEqual(expected);
    expect([...iptables.chains.keys()].filter((c) => c.startsWith("B"))).toHaveLength(2);
  });

  it("spares in a sweep the bridges protected since its pass began (a network made while the pass listed them)", async () => {
    const fw = firewall(iptables);
    await fw.protect("br-aaaaaaaaaaaa");
    // A re-check pass begins, and lists the networks: only a's.
    const since = fw.mark();
    // Meanwhile a workload's network is made and protected.
    await fw.protect("br-bbbbbbbbbbbb");
    await fw.sweep(new Set(["br-aaaaaaaaaaaa"]), since);
    const hooked = (iptables.chains.get("DOCKER-USER") ?? []).map((r) => r[1]);
    expect(hooked).toEqual(expect.arrayContaining(["br-aaaaaaaaaaaa", "br-bbbbbbbbbbbb"]));
    // The next pass, which lists b's network too, keeps it; one whose network went sweeps it.
    await fw.sweep(new Set(["br-aaaaaaaaaaaa"]), fw.mark());
    expect((iptables.chains.get("DOCKER-USER") ?? []).map((r) => r[1])).not.toContain("br-bbbbbbbbbbbb");
  });

  it("moves a bridge to a new policy without a moment unfiltered: new chains are hooked before old ones go", async () => {
    await firewall(iptables, "inst1").protect("br-aaaaaaaaaaaa");
    const [oldJump] = iptables.chains.get("DOCKER-USER") ?? [];
    iptables.calls.length = 0;
    await firewall(iptables, "inst1", ["10.9.0.0/16"]).protect("br-aaaaaaaaaaaa");
    const ops = iptables.calls.map((c) => `${c[0]} ${c[1]} ${c.at(-1)}`);
    const hookNew = ops.findIndex((o) => o.startsWith("-I DOCKER-USER"));
    const unhookOld = ops.indexOf(`-D DOCKER-USER ${oldJump?.at(-1)}`);
    expect(hookNew).toBeGreaterThanOrEqual(0);
    expect(unhookOld).toBeGreaterThan(hookNew);
    expect(iptables.chains.has(oldJump?.at(-1) ?? "")).toBe(false);
    expect(iptables.chains.get("DOCKER-USER")).toHaveLength(2);
  });

  it("refills a chain left half-made by a crash before hooking it in", async () => {
    const fw = firewall(iptables);
    await fw.protect("br-aaaaaaaaaaaa");
    const [jump] = iptables.chains.get("DOCKER-USER") ?? [];
    const chain = jump?.at(-1) ?? "";
    const full = iptables.chains.get(chain)?.map((r) => r.join(" "));
    // As if berth died after creating the chain and one rule: no jump yet.
    await fw.release("br-aaaaaaaaaaaa");
    iptables.chains.set(chain, [["-d", "10.0.0.0/8", "-j", "RETURN"]]);
    await fw.protect("br-aaaaaaaaaaaa");
    expect(iptables.chains.get(chain)?.map((r) => r.join(" "))).toEqual(full);
  });

  it("fails closed with EGRESS_FILTER_UNAVAILABLE when iptables cannot run, and says why in check()", async () => {
    iptables.broken = "spawn iptables ENOENT";
    const fw = firewall(iptables);
    await expect(fw.check()).resolves.toEqual({ available: false, reason: "spawn iptables ENOENT" });
    await expect(fw.protect("br-aaaaaaaaaaaa")).rejects.toMatchObject({ code: "EGRESS_FILTER_UNAVAILABLE" });
  });

  it("refuses an interface name that is not one", async () => {
    await expect(firewall(iptables).protect("br-x -j ACCEPT")).rejects.toThrow();
    expect(iptables.calls).toEqual([]);
  });
});
