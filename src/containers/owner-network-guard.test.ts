import { PassThrough } from "node:stream";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { DockerClient } from "../docker/docker-client.ts";
import { Redactor } from "../logging/redactor.ts";
import { createSystemLogger } from "../logging/system-logger.ts";
import type { EgressGuard } from "./egress-guard.ts";
import { OwnerNetworkGuard, type OwnerNetworkGuardOptions } from "./owner-network-guard.ts";

function logged() {
  const lines: string[] = [];
  const destination = new PassThrough();
  destination.on("data", (chunk: Buffer) => lines.push(chunk.toString()));
  return { lines, log: createSystemLogger({ level: "info", redactor: new Redactor(), destination }) };
}

/** One owner bridge; each `protect` of the filter waits for `step()` when `gated`. */
function fakes() {
  const protects: string[] = [];
  let gate: Promise<void> | undefined;
  let open: () => void = () => {};
  const egress: EgressGuard = {
    protect: async (bridge) => {
      protects.push(bridge);
      await gate;
    },
    release: async () => {},
    mark: () => 0,
    sweep: async () => {},
  };
  const docker = {
    listNetworks: async () => ["berth-net"],
    inspectNetwork: async () => ({ bridge: "br-1" }),
  } as unknown as DockerClient;
  return {
    protects,
    egress,
    docker,
    hold() {
      gate = new Promise((resolve) => (open = resolve));
    },
    release() {
      gate = undefined;
      open();
    },
  };
}

/** A guard over `f`'s engine and filter, on instance i1; `options` says what the store and config hold. */
function guardOver(
  f: ReturnType<typeof fakes>,
  options: Pick<OwnerNetworkGuardOptions, "allowNetwork" | "hasOutbound" | "recheckMs"> &
    Partial<Pick<OwnerNetworkGuardOptions, "log">>,
): OwnerNetworkGuard {
  return new OwnerNetworkGuard({
    docker: f.docker,
    egress: f.egress,
    instanceId: "i1",
    log: logged().log,
    ...options,
  });
}

describe("OwnerNetworkGuard", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("puts the owner networks' rules back every recheckMs once started, and no more once closed", async () => {
    const f = fakes();
    const guard = guardOver(f, {
      allowNetwork: true,
      hasOutbound: async () => false,
      recheckMs: 1_000,
    });
    await vi.advanceTimersByTimeAsync(5_000);
    expect(f.protects).toEqual([]);
    guard.start();
    await vi.advanceTimersByTimeAsync(3_000);
    expect(f.protects).toHaveLength(3);
    await guard.close();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(f.protects).toHaveLength(3);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("has nothing to keep (and runs no iptables) where outbound is not allowed and no container asks for it", async () => {
    const f = fakes();
    let outbound = false;
    const guard = guardOver(f, {
      allowNetwork: false,
      hasOutbound: async () => outbound,
    });
    await guard.protect();
    expect(f.protects).toEqual([]);
    outbound = true;
    await guard.protect();
    expect(f.protects).toEqual(["br-1"]);
  });

  it("runs passes one after the other, skips the periodic turn while one is under way, and close() waits for it", async () => {
    const f = fakes();
    const guard = guardOver(f, {
      allowNetwork: true,
      hasOutbound: async () => true,
      recheckMs: 100,
    });
    f.hold();
    const first = guard.protect();
    const second = guard.protect();
    guard.start();
    await vi.advanceTimersByTimeAsync(1_000);
    // The first pass waits on the filter: the second waits for it, and the periodic turns are skipped.
    expect(f.protects).toEqual(["br-1"]);
    let closed = false;
    const closing = guard.close().then(() => {
      closed = true;
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(closed).toBe(false);
    f.release();
    await Promise.all([first, second, closing]);
    // The second pass came after close(): it puts nothing back.
    expect(f.protects).toEqual(["br-1"]);
  });

  it("logs a store that cannot be read and carries on: a pass never rejects", async () => {
    const f = fakes();
    const { lines, log } = logged();
    const guard = guardOver(f, {
      log,
      allowNetwork: false,
      hasOutbound: async () => {
        throw new Error("SQLITE_IOERR: disk I/O error");
      },
    });
    await expect(guard.protect()).resolves.toBeUndefined();
    expect(lines.join("")).toContain("could not check the egress filter of owner networks");
  });
});
