import { describe, expect, it } from "vitest";
import type { SocketData } from "./contract.ts";
import { guardSessionRecovery } from "./session-recovery-guard.ts";

type Session = { sid: string; pid: string; rooms: string[]; data: SocketData; missedPackets: unknown[] };
type Lookup = (pid: string, offset: string) => Promise<Session | null>;

const ALICE_SESSION: Session = {
  sid: "sid-1",
  pid: "pid-1",
  rooms: ["owner:alice"],
  data: { owner: "alice", admin: false, tokenDigest: Buffer.alloc(32) } as unknown as SocketData,
  missedPackets: [{ type: 2, data: ["container:status_changed", {}] }],
};

/**
 * A namespace whose `_add` does what socket.io 4.8's does with the auth it is
 * given: it looks the session up again, by `pid` and `offset`, and restores
 * whatever that second look-up returns. Resolves with what it restored.
 */
function namespace(lookups: Lookup[]) {
  const restored: Array<Session | null> = [];
  let calls = 0;
  const restoreSession: Lookup = (pid, offset) => {
    const lookup = lookups[Math.min(calls++, lookups.length - 1)];
    if (!lookup) throw new Error("no look-up given");
    return lookup(pid, offset);
  };
  const nsp = {
    adapter: { restoreSession },
    async _add(_client: unknown, auth: Record<string, unknown>) {
      const { pid, offset } = auth;
      const session =
        typeof pid === "string" && typeof offset === "string"
          ? await restoreSession(pid, offset).catch(() => null)
          : null;
      restored.push(session);
    },
  };
  return { nsp, restored };
}

async function reconnect(lookups: Lookup[], mayRestore: () => boolean): Promise<Array<Session | null>> {
  const { nsp, restored } = namespace(lookups);
  guardSessionRecovery(nsp as unknown as Parameters<typeof guardSessionRecovery>[0], mayRestore);
  await nsp._add({}, { token: "mallory-token", pid: "pid-1", offset: "0-0" });
  return restored;
}

describe("guardSessionRecovery", () => {
  const found: Lookup = async () => ALICE_SESSION;
  const missing: Lookup = async () => null;
  const failing: Lookup = async () => {
    throw new Error("the session store did not answer");
  };

  it("restores a session the guard saw and allowed", async () => {
    expect(await reconnect([found], () => true)).toEqual([ALICE_SESSION]);
  });

  it("does not restore a session the guard refused", async () => {
    expect(await reconnect([found], () => false)).toEqual([null]);
  });

  it("does not restore a session the guard could not see, when the store answers null first and the session second", async () => {
    let asked = false;
    const restored = await reconnect([missing, found], () => {
      asked = true;
      return true;
    });
    expect(restored).toEqual([null]);
    expect(asked).toBe(false);
  });

  it("does not restore a session the guard could not see, when the store fails first and answers second", async () => {
    expect(await reconnect([failing, found], () => true)).toEqual([null]);
  });
});
