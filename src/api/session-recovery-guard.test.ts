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
 * given: it asks its adapter for the session, by `pid` and `offset`, at once
 * (before any await), and restores whatever that look-up returns. The
 * adapter answers each look-up with the next of `lookups`. Resolves with what
 * `_add` restored; `lookUps()` counts the adapter's look-ups.
 */
function namespace(lookups: Lookup[]) {
  const restored: Array<Session | null> = [];
  let calls = 0;
  const adapter = {
    restoreSession: ((pid, offset) => {
      const lookup = lookups[Math.min(calls++, lookups.length - 1)];
      if (!lookup) throw new Error("no look-up given");
      return lookup(pid, offset);
    }) as Lookup,
  };
  const persisted: unknown[] = [];
  const nsp = {
    adapter: {
      ...adapter,
      persistSession: (session: unknown) => {
        persisted.push(session);
      },
    },
    /** The live sockets by id: none here. */
    sockets: new Map<string, { disconnect(close: boolean): void }>(),
    async _add(_client: unknown, auth: Record<string, unknown>) {
      const { pid, offset } = auth;
      const session =
        typeof pid === "string" && typeof offset === "string"
          ? await nsp.adapter.restoreSession(pid, offset).catch(() => null)
          : null;
      restored.push(session);
    },
  };
  return { nsp, restored, persisted, lookUps: () => calls };
}

async function reconnect(lookups: Lookup[], mayRestore: () => boolean): Promise<Array<Session | null>> {
  return (await reconnectCounting(lookups, mayRestore)).restored;
}

async function reconnectCounting(lookups: Lookup[], mayRestore: () => boolean, live: string[] = []) {
  const { nsp, restored, persisted, lookUps } = namespace(lookups);
  /** What happened, in order: a live socket's end, and each `_add`. */
  const events: string[] = [];
  for (const sid of live)
    nsp.sockets.set(sid, { disconnect: (close: boolean) => events.push(`ended ${sid} ${close}`) });
  const add = nsp._add.bind(nsp);
  nsp._add = async (client, auth) => {
    events.push("added");
    return add(client, auth);
  };
  /** What the fan-out is handed back: sessions whose look-up consumed them. */
  const returned: unknown[] = [];
  guardSessionRecovery(nsp as unknown as Parameters<typeof guardSessionRecovery>[0], mayRestore, {
    returnSession: (session) => returned.push(session),
  });
  await nsp._add({}, { token: "mallory-token", pid: "pid-1", offset: "0-0" });
  return { restored, persisted, returned, events, lookUps: lookUps() };
}

describe("guardSessionRecovery", () => {
  const found: Lookup = async () => ALICE_SESSION;
  const missing: Lookup = async () => null;
  const failing: Lookup = async () => {
    throw new Error("the session store did not answer");
  };

  it("ends a live socket that still holds the restored session's id before restoring it (its end would empty the id's rooms)", async () => {
    const { restored, events } = await reconnectCounting([found], () => true, ["sid-1", "sid-other"]);
    expect(restored).toEqual([ALICE_SESSION]);
    expect(events).toEqual(["ended sid-1 true", "added"]);
  });

  it("leaves a live socket alone when the session is refused", async () => {
    const { events } = await reconnectCounting([found], () => false, ["sid-1"]);
    expect(events).toEqual(["added"]);
  });

  it("restores a session the guard saw and allowed", async () => {
    expect(await reconnect([found], () => true)).toEqual([ALICE_SESSION]);
  });

  it("does not restore a session the guard refused, and gives it back to the fan-out whose look-up consumed it", async () => {
    const { restored, persisted, returned } = await reconnectCounting([found], () => false);
    expect(restored).toEqual([null]);
    expect(returned).toEqual([ALICE_SESSION]);
    // Never through the adapter's own write, which would give the session a new lifetime.
    expect(persisted).toEqual([]);
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

  it("looks the session up once: a store whose look-up consumes it (Redis's GETDEL) still restores it", async () => {
    // The Redis-streams adapter deletes the session as it reads it: a second look-up finds nothing.
    const { restored, lookUps } = await reconnectCounting([found, missing], () => true);
    expect(restored).toEqual([ALICE_SESSION]);
    expect(lookUps).toBe(1);
  });

  it("restores the very session it checked, never another a second look-up would find", async () => {
    const bobs: Session = {
      ...ALICE_SESSION,
      rooms: ["owner:bob"],
      data: { ...ALICE_SESSION.data, owner: "bob" },
    };
    expect(await reconnect([found, async () => bobs], () => true)).toEqual([ALICE_SESSION]);
  });
});
