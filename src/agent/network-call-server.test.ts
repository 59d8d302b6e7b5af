import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import type { CallAnswer } from "../agent-link/agent-link-contract.ts";
import { FakeDockerClient } from "../docker/testing/fake-docker-client.ts";
import { Redactor } from "../logging/redactor.ts";
import { createSystemLogger } from "../logging/system-logger.ts";
import { EgressFilterUnavailableError } from "../network/egress-filter-unavailable-error.ts";
import { EngineCallServer } from "./engine-call-server.ts";
import { NetworkCallServer } from "./network-call-server.ts";
import type { NodeNetworks } from "./node-networks.ts";

const log = createSystemLogger({ level: "silent", redactor: new Redactor(), destination: new PassThrough() });
const INSTANCE = "c0ffee00c0ffee00";

/** NodeNetworks that records what it was asked; `filters: false` answers as a node that cannot filter. */
function setUp(filters = true) {
  const asked: string[][] = [];
  const networks = {
    ensure: async (instanceId: string, owner: string) => {
      asked.push(["ensure", instanceId, owner]);
      if (!filters) throw new EgressFilterUnavailableError({ cause: new Error("no DOCKER-USER chain") });
      return { name: "berth-c0ffee00-0123456789ab" };
    },
    release: async (instanceId: string, owner: string) => {
      asked.push(["release", instanceId, owner]);
      return true;
    },
  } as unknown as NodeNetworks;
  const server = new NetworkCallServer(networks, log);
  let next = 0;
  const call = (raw: unknown): Promise<CallAnswer> =>
    new Promise((resolve) => void server.call(raw, resolve));
  const op = (name: string, args: unknown[]) => call({ kind: "network", id: String(++next), op: name, args });
  return { server, call, op, asked };
}

describe("network calls on the agent (NetworkCallServer)", () => {
  it("makes an owner's network from an instance id and an owner, and answers its name", async () => {
    const { op, asked } = setUp();
    expect(await op("ensure", [INSTANCE, "alice@example.org"])).toEqual({
      ok: true,
      value: { name: "berth-c0ffee00-0123456789ab" },
    });
    expect(await op("release", [INSTANCE, "alice@example.org"])).toEqual({ ok: true, value: true });
    expect(asked).toEqual([
      ["ensure", INSTANCE, "alice@example.org"],
      ["release", INSTANCE, "alice@example.org"],
    ]);
  });

  it("answers EGRESS_FILTER_UNAVAILABLE from a node that cannot filter", async () => {
    const { op } = setUp(false);
    expect(await op("ensure", [INSTANCE, "alice"])).toMatchObject({
      ok: false,
      error: { code: "EGRESS_FILTER_UNAVAILABLE", details: { field: "network" } },
    });
  });

  it.each([
    ["an op of its own", "create", [INSTANCE, "alice"]],
    ["a name in place of an owner", "ensure", [INSTANCE, "bridge --opt x"]],
    ["a path as an owner", "ensure", [INSTANCE, "../../etc"]],
    ["an owner too long", "ensure", [INSTANCE, "a".repeat(65)]],
    ["an instance id too short", "ensure", ["c0ffee", "alice"]],
    ["an instance id with a space", "ensure", ["c0ffee00 c0ffee00", "alice"]],
    ["a third argument (options, a policy)", "ensure", [INSTANCE, "alice", { allow: ["0.0.0.0/0"] }]],
    ["a network's name", "release", ["berth-c0ffee00-0123456789ab"]],
  ])("refuses %s before anything is made", async (_what, name, args) => {
    const { op, asked } = setUp();
    expect(await op(name, args)).toMatchObject({ ok: false, error: { code: "VALIDATION_FAILED" } });
    expect(asked).toEqual([]);
  });

  it("refuses an envelope with a field beside the call's", async () => {
    const { call, asked } = setUp();
    const answer = await call({
      kind: "network",
      id: "1",
      op: "ensure",
      args: [INSTANCE, "a"],
      name: "host",
    });
    expect(answer).toMatchObject({ ok: false, error: { code: "VALIDATION_FAILED" } });
    expect(asked).toEqual([]);
  });

  it("drops an answer whose connection ended meanwhile", async () => {
    const { server } = setUp();
    let answered = false;
    const pending = server.call({ kind: "network", id: "1", op: "ensure", args: [INSTANCE, "alice"] }, () => {
      answered = true;
    });
    server.close();
    await pending;
    expect(answered).toBe(false);
  });

  it("is not served by the engine's call server: an agent without networks refuses network calls", async () => {
    const engine = new EngineCallServer(new FakeDockerClient(), () => {}, log);
    const answer = await new Promise<CallAnswer>(
      (resolve) =>
        void engine.call({ kind: "network", id: "1", op: "ensure", args: [INSTANCE, "alice"] }, resolve),
    );
    expect(answer).toMatchObject({ ok: false, error: { code: "VALIDATION_FAILED" } });
  });
});
