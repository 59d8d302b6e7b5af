import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { io } from "socket.io-client";
import { afterAll, describe, expect, it } from "vitest";
import type { SessionRevokedEvent } from "#protocol";
import { Berth } from "../../src/berth.ts";
import { loadConfig } from "../../src/config/config.ts";
import { adminTokenPath } from "../../src/secrets/admin-token-file.ts";
import { secretKeyFileBeside, spawnBerth } from "../helpers/berth-process.ts";
import { eventually, within } from "../helpers/deadline.ts";
import { nextStatus } from "../helpers/events.ts";
import {
  call,
  docker,
  echoCode,
  ok,
  type RawClient,
  removeInstance,
  TOKENS,
  useTestServer,
} from "../helpers/test-server.ts";
import { publishTokensVersion, writeTokensFile } from "../helpers/tokens-file.ts";

const CAROL = "carol-token-0123456789";
const DAVE = "dave-token-0123456789";
const base = `# owners of this test\nalice:${TOKENS.alice}\n\nbob:${TOKENS.bob} containers=5\n`;

function refusalOf(promise: Promise<unknown>): Promise<(Error & { data?: { code?: string } }) | undefined> {
  return promise.then(
    () => undefined,
    (err: Error & { data?: { code?: string } }) => err,
  );
}

/** How many log lines have a message starting with `msg`, to await the watcher's next turn. */
function countLines(logs: string, msg: string): number {
  return logs.split("\n").filter((l) => l.includes(`"msg":"${msg}`)).length;
}

describe("the tokens file (BERTH_TOKENS_FILE)", () => {
  const dir = mkdtempSync(join(tmpdir(), "berth-tokens-"));
  const file = join(dir, "tokens");
  writeTokensFile(file, base);
  const server = useTestServer({ BERTH_TOKENS: "", BERTH_TOKENS_FILE: file });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function rewrite(text: string, how: "replace" | "inPlace" = "replace"): Promise<void> {
    const before = countLines(server.logs(), "tokens reloaded");
    writeTokensFile(file, text, how);
    await eventually(5_000, "the watcher reloads the tokens file", () => {
      return countLines(server.logs(), "tokens reloaded") > before;
    });
  }

  it("puts a new token in force without a restart, with its quota overrides", async () => {
    expect((await refusalOf(server.connectRaw({ token: CAROL })))?.data?.code).toBe("UNAUTHORIZED");
    await rewrite(`${base}carol:${CAROL} running=2\n`);
    const carol = await server.connectRaw({ token: CAROL });
    expect((await ok(carol, "container:list", {})).items).toEqual([]);
    expect(server.berth.tokens.overridesFor("carol")).toEqual({ running: 2 });
    expect(server.berth.tokens.overridesFor("bob")).toEqual({ containers: 5 });
    carol.disconnect();
  });

  it("holds an owner to the quota overrides of the tokens file, and to new ones from the next reload", async () => {
    await rewrite(`${base}carol:${CAROL} containers=1\n`);
    const carol = await server.connectRaw({ token: CAROL });
    const first = await ok(carol, "container:create", { name: "one", code: await echoCode(), start: false });
    const refused = await call(carol, "container:create", {
      name: "two",
      code: await echoCode(),
      start: false,
    });
    expect(refused).toMatchObject({
      ok: false,
      error: { code: "QUOTA_EXCEEDED", details: { quota: "containers", usage: 1, limit: 1 } },
    });
    // bob's override (containers=5) is his own: alice and bob are not held to carol's.
    const bobs = await ok(await server.connectRaw("bob"), "container:create", {
      name: "two",
      code: await echoCode(),
      start: false,
    });
    await rewrite(`${base}carol:${CAROL} containers=2\n`);
    const second = await ok(carol, "container:create", { name: "two", code: await echoCode(), start: false });
    for (const id of [first.id, second.id]) await ok(carol, "container:delete", { id });
    await ok(await server.connectRaw("admin"), "container:delete", { id: bobs.id });
    carol.disconnect();
  });

  it("closes a revoked token's connections with session:revoked at once, and only those", async () => {
    await rewrite(`${base}carol:${CAROL}\n`);
    const [carol, carol2, bob, alice] = await Promise.all([
      server.connectRaw({ token: CAROL }),
      server.connectRaw({ token: CAROL }),
      server.connectRaw("bob"),
      server.connectRaw("alice"),
    ]);
    const told = (c: RawClient) =>
      new Promise<SessionRevokedEvent>((resolve) => c.once("session:revoked", resolve));
    const closed = (c: RawClient) => new Promise<string>((resolve) => c.once("disconnect", resolve));
    const events = Promise.all([told(carol), told(carol2), closed(carol), closed(carol2)]);

    await rewrite(base, "inPlace");
    const [event] = await within(5_000, "carol's connections are told and closed", events);
    expect(event).toMatchObject({ reason: "token_revoked" });
    expect(carol.connected || carol2.connected).toBe(false);
    // Nobody else was disconnected.
    expect(bob.connected && alice.connected).toBe(true);
    expect((await call(bob, "container:list", {})).ok).toBe(true);
    expect((await call(alice, "container:list", {})).ok).toBe(true);
    expect((await refusalOf(server.connectRaw({ token: CAROL })))?.data?.code).toBe("UNAUTHORIZED");
  });

  it("cannot recover a session of a revoked token, nor of a token that was replaced", async () => {
    await rewrite(`${base}carol:${CAROL}\n`);
    const carol = await server.connectRaw({ token: CAROL });
    const pushed = nextStatus(carol, (e) => e.to === "created");
    const info = await ok(carol, "container:create", { name: "short-lived", start: false });
    await within(10_000, "carol's push", pushed);
    const { _pid: pid, _lastOffset: offset } = carol as unknown as { _pid: string; _lastOffset: string };
    const carolId = carol.id;
    carol.io.engine.close(); // a dropped transport: the session is kept for recovery
    // While carol is away, a push for her room: it waits in her session for a recovery.
    const admin = await server.connectRaw("admin");
    const deleted = nextStatus(admin, (e) => e.id === info.id && e.to === "removing");
    await ok(admin, "container:delete", { id: info.id });
    await within(10_000, "the delete's push", deleted);

    /** Reconnects with carol's session and `token`: "restored", "fresh" or the refusal's code; and what reached the wire. */
    const attempt = async (token: string) => {
      const again: RawClient = io(server.url, {
        auth: { token, pid, offset },
        transports: ["websocket"],
        reconnection: false,
      });
      const packets: string[] = [];
      again.io.on("open", () =>
        again.io.engine.on("packet", (p: { type: string; data?: unknown }) => packets.push(String(p.data))),
      );
      const outcome = await new Promise<string>((resolve) => {
        again.once("connect", () => resolve(again.id === carolId ? "restored" : "fresh"));
        again.once("connect_error", (e: Error & { data?: { code?: string } }) =>
          resolve(e.data?.code ?? "?"),
        );
      });
      again.disconnect();
      return { outcome, leaked: packets.some((p) => p.includes(info.id)) };
    };

    // Carol's token is replaced by a new one: the old token is refused, the new one gets a fresh session,
    // and neither sees the push that waits in the old session.
    await rewrite(`${base}carol:${DAVE}\n`);
    expect(await attempt(CAROL)).toEqual({ outcome: "UNAUTHORIZED", leaked: false });
    expect(await attempt(DAVE)).toEqual({ outcome: "fresh", leaked: false });
    // Carol's old token now given to dave: it connects as dave, and carol's session does not come along.
    await rewrite(`${base}dave:${CAROL}\n`);
    expect(await attempt(CAROL)).toEqual({ outcome: "fresh", leaked: false });
  });

  it("keeps an owner's containers running when its token is gone; the admin still sees and manages them", async () => {
    await rewrite(`${base}carol:${CAROL}\n`);
    const carol = await server.connectRaw({ token: CAROL });
    const info = await ok(carol, "container:create", { name: "keeps-running", code: await echoCode() });
    expect(info.state).toBe("running");
    const gone = new Promise((resolve) => carol.once("disconnect", resolve));
    await rewrite(base);
    await within(5_000, "carol's connection is closed", gone);

    const admin = await server.connectRaw("admin");
    const seen = await ok(admin, "container:list", {});
    expect(seen.items.find((c) => c.id === info.id)).toMatchObject({ owner: "carol", state: "running" });
    const engine = await docker.getContainer(`berth-${info.id}`).inspect();
    expect(engine.State.Running).toBe(true);
    expect((await ok(admin, "container:stop", { id: info.id })).state).toBe("stopped");
    expect(await ok(admin, "container:delete", { id: info.id })).toMatchObject({ deleted: true });
  });

  it("closes a revoked token's connections even when another listener of the change throws, and says which failed", async () => {
    await rewrite(`${base}carol:${CAROL}\n`);
    const carol = await server.connectRaw({ token: CAROL });
    const closed = new Promise<string>((resolve) => carol.once("disconnect", resolve));
    // Put first, ahead of the listener that closes revoked connections.
    const failing = () => {
      throw new Error("a listener that fails");
    };
    server.berth.tokens.prependListener("changed", failing);
    try {
      writeTokensFile(file, base);
      expect(server.berth.reloadTokens()).toBe(true);
      await within(5_000, "carol's connection is closed", closed);
    } finally {
      server.berth.tokens.off("changed", failing);
    }
    expect(server.logs()).toContain("a listener of the tokens change failed; the new tokens are in force");
    expect(countLines(server.logs(), "tokens file refused")).toBe(0);
    expect((await refusalOf(server.connectRaw({ token: CAROL })))?.data?.code).toBe("UNAUTHORIZED");
  });

  it("keeps the tokens in force when the file does not parse, and logs the line number but never the line", async () => {
    const before = countLines(server.logs(), "tokens file refused; the tokens in force stay");
    writeTokensFile(file, `alice:${TOKENS.alice}\n${CAROL}-without-owner\nbob:${TOKENS.bob}\n`);
    await eventually(5_000, "the refusal is logged", () => {
      return countLines(server.logs(), "tokens file refused; the tokens in force stay") > before;
    });
    const line = server
      .logs()
      .split("\n")
      .filter((l) => l.includes("tokens file refused"))
      .at(-1);
    expect(JSON.parse(line ?? "{}")).toMatchObject({ level: 50, line: 2, reason: "expected owner:token" });
    expect(server.logs()).not.toContain(`${CAROL}-without-owner`);
    // What was in force stays in force: alice and bob connect, and no one was cut off.
    (await server.connectRaw("alice")).disconnect();
    (await server.connectRaw("bob")).disconnect();
  });

  it("refuses a reloaded file that group or others can read, and keeps the tokens in force", async () => {
    writeTokensFile(file, `${base}dave:${DAVE}\n`);
    chmodSync(file, 0o644);
    expect(server.berth.reloadTokens()).toBe(false);
    expect(server.logs()).toMatch(
      /"reason":"[^"]*mode 0644; group and others must have no access \(chmod 600\)"/,
    );
    expect((await refusalOf(server.connectRaw({ token: DAVE })))?.data?.code).toBe("UNAUTHORIZED");
    (await server.connectRaw("alice")).disconnect();
    chmodSync(file, 0o600);
    expect(server.berth.reloadTokens()).toBe(true);
    (await server.connectRaw({ token: DAVE })).disconnect();
    writeTokensFile(file, base);
  });
});

describe("berth at start-up", () => {
  /** Builds (and, should it start, closes) a berth from `env`; resolves with the message it refused with. */
  async function startRefusal(env: Record<string, string>): Promise<string> {
    const dataDir = mkdtempSync(join(tmpdir(), "bt-"));
    // The key, and the admin token berth generates without BERTH_ADMIN_TOKEN, beside it: never in $HOME.
    const keyDir = mkdtempSync(join(tmpdir(), "bk-"));
    try {
      const berth = await Berth.open(
        loadConfig({
          BERTH_DATA_DIR: dataDir,
          BERTH_SECRET_KEY_FILE: join(keyDir, "secret.key"),
          BERTH_LOG_LEVEL: "silent",
          ...env,
        }),
      );
      await berth.close();
      await removeInstance(berth.instanceId);
      return "started";
    } catch (err) {
      return (err as Error).message;
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(keyDir, { recursive: true, force: true });
    }
  }

  it("refuses an owner named admin, in any case, naming the variable", async () => {
    const dir = mkdtempSync(join(tmpdir(), "berth-tokens-"));
    try {
      expect(await startRefusal({ BERTH_TOKENS: `Admin:${TOKENS.alice}` })).toMatch(
        /BERTH_TOKENS: 'admin' is reserved for the admin/,
      );
      writeTokensFile(join(dir, "tokens"), `alice:${TOKENS.alice}\nadmin:${TOKENS.bob}\n`);
      expect(await startRefusal({ BERTH_TOKENS_FILE: join(dir, "tokens") })).toMatch(
        /BERTH_TOKENS_FILE: line 2: 'admin' is reserved for the admin/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses a tokens file that group or others can read", async () => {
    const dir = mkdtempSync(join(tmpdir(), "berth-tokens-"));
    try {
      writeTokensFile(join(dir, "tokens"), `alice:${TOKENS.alice}\n`);
      chmodSync(join(dir, "tokens"), 0o640);
      expect(await startRefusal({ BERTH_TOKENS_FILE: join(dir, "tokens") })).toMatch(
        /BERTH_TOKENS_FILE: .*mode 0640; group and others must have no access \(chmod 600\)/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("berth as its own process", () => {
  it("reloads the tokens file on SIGHUP, and keeps running", async () => {
    const dir = mkdtempSync(join(tmpdir(), "berth-tokens-"));
    const dataDir = mkdtempSync(join(tmpdir(), "bt-"));
    // The file is a link into another directory, where the watcher does not look: only SIGHUP reloads it.
    mkdirSync(join(dir, "real"));
    mkdirSync(join(dir, "watched"));
    writeTokensFile(join(dir, "real", "tokens"), `alice:${TOKENS.alice}\n`);
    symlinkSync(join(dir, "real", "tokens"), join(dir, "watched", "tokens"));
    const berth = await spawnBerth({
      BERTH_DATA_DIR: dataDir,
      BERTH_TOKENS_FILE: join(dir, "watched", "tokens"),
    });
    const connect = (token: string) => {
      const client: RawClient = io(berth.url, {
        auth: { token },
        transports: ["websocket"],
        reconnection: false,
      });
      return new Promise<RawClient>((resolve, reject) => {
        client.once("connect", () => resolve(client));
        client.once("connect_error", (err) => {
          client.close();
          reject(err);
        });
      });
    };
    try {
      (await connect(TOKENS.alice)).close();
      writeTokensFile(join(dir, "real", "tokens"), `alice:${TOKENS.alice}\ncarol:${CAROL}\n`);
      berth.child.kill("SIGHUP");
      await eventually(5_000, "berth reloads on SIGHUP", () =>
        berth.lines.some((l) => l.includes('"msg":"tokens reloaded"') && l.includes("carol")),
      );
      (await connect(CAROL)).close();
      expect(berth.child.exitCode).toBeNull();
    } finally {
      await berth.kill();
      rmSync(dir, { recursive: true, force: true });
      rmSync(dataDir, { recursive: true, force: true });
      // The key and the admin token it generated (no BERTH_ADMIN_TOKEN) live beside the data directory.
      rmSync(secretKeyFileBeside(dataDir), { force: true });
      rmSync(adminTokenPath(secretKeyFileBeside(dataDir)), { force: true });
    }
  });
});

describe("a tokens file mounted as Kubernetes and Vault Agent mount secrets (a ..data symlink swap)", () => {
  const dir = mkdtempSync(join(tmpdir(), "berth-k8s-"));
  publishTokensVersion(dir, "2026_v1", `${base}carol:${CAROL}\n`);
  const server = useTestServer({ BERTH_TOKENS: "", BERTH_TOKENS_FILE: join(dir, "tokens") });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("reloads a new version without SIGHUP: carol's revoked token is closed, alice and bob stay", async () => {
    const [carol, alice, bob] = await Promise.all([
      server.connectRaw({ token: CAROL }),
      server.connectRaw("alice"),
      server.connectRaw("bob"),
    ]);
    const revoked = new Promise<SessionRevokedEvent>((resolve) => carol.once("session:revoked", resolve));
    const closed = new Promise<string>((resolve) => carol.once("disconnect", resolve));

    publishTokensVersion(dir, "2026_v2", `${base}dave:${DAVE}\n`);
    await within(5_000, "carol's connection is told and closed", Promise.all([revoked, closed]));
    expect(alice.connected && bob.connected).toBe(true);
    expect((await refusalOf(server.connectRaw({ token: CAROL })))?.data?.code).toBe("UNAUTHORIZED");
    (await server.connectRaw({ token: DAVE })).disconnect();
    alice.disconnect();
    bob.disconnect();
  });
});
