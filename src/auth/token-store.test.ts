import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { TokenStore, type TokensChange } from "./token-store.ts";
import { TokensFileError } from "./tokens-file.ts";

describe("TokenStore", () => {
  const dir = mkdtempSync(join(tmpdir(), "berth-store-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "tokens");
  const write = (text: string) => {
    writeFileSync(file, text);
    chmodSync(file, 0o600);
  };

  it("tells owners and the admin apart, and refuses unknown, empty and oversized tokens", () => {
    const store = new TokenStore({
      tokens: new Map([["alice", "alice-token-1"]]),
      adminToken: "admin-token-1",
    });
    expect(store.authenticate("alice-token-1")?.identity).toEqual({ kind: "owner", owner: "alice" });
    expect(store.authenticate("admin-token-1")?.identity).toEqual({ kind: "admin" });
    for (const bad of ["", "alice-token-2", 42, undefined, "x".repeat(1025)]) {
      expect(store.authenticate(bad)).toBeUndefined();
    }
  });

  it("reloads the file: a new token works, a removed or replaced one no longer does, and says so", () => {
    write("alice:alice-token-1\nbob:bob-token-001\n");
    const store = TokenStore.open({ file, adminToken: "admin-token-1" });
    const alice = store.authenticate("alice-token-1");
    const bob = store.authenticate("bob-token-001");
    if (!alice || !bob) throw new Error("not authenticated");
    const changes: TokensChange[] = [];
    store.on("changed", (c) => changes.push(c));

    write("bob:bob-token-001\ncarol:carol-token-1 running=3\n");
    store.reload();
    expect(store.authenticate("alice-token-1")).toBeUndefined();
    expect(store.isCurrent(alice)).toBe(false);
    expect(store.isCurrent(bob)).toBe(true);
    expect(store.authenticate("carol-token-1")?.identity).toEqual({ kind: "owner", owner: "carol" });
    expect(store.overridesFor("carol")).toEqual({ running: 3 });
    expect(store.overridesFor("bob")).toBeUndefined();
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ revoked: ["alice"], added: ["carol"], adminToken: "admin-token-1" });
    expect([...(changes[0]?.tokens ?? [])]).toEqual([
      ["bob", "bob-token-001"],
      ["carol", "carol-token-1"],
    ]);

    // Same owner, new token: the old token's credential is revoked, the owner is not gone.
    write("bob:bob-token-002\ncarol:carol-token-1 running=3\n");
    store.reload();
    expect(store.isCurrent(bob)).toBe(false);
    expect(changes[1]).toMatchObject({ revoked: ["bob"], added: ["bob"] });

    // Nothing changed: no event.
    store.reload();
    expect(changes).toHaveLength(2);
  });

  it("keeps the tokens in force when the file is refused", () => {
    write("alice:alice-token-1\n");
    const store = TokenStore.open({ file });
    write("alice:alice-token-1\nbroken line\n");
    expect(() => store.reload()).toThrow(TokensFileError);
    write("bob:bob-token-001\n");
    chmodSync(file, 0o644);
    expect(() => store.reload()).toThrow(/chmod 600/);
    expect(store.authenticate("alice-token-1")?.identity).toEqual({ kind: "owner", owner: "alice" });
    expect(store.authenticate("bob-token-001")).toBeUndefined();
  });

  it("tells every listener of a change, even when one throws, and reports the one that threw", () => {
    write("alice:alice-token-1\n");
    const failures: unknown[] = [];
    const store = TokenStore.open({ file, onListenerError: (err) => failures.push(err) });
    const heard: string[][] = [];
    store.on("changed", () => {
      throw new Error("the redactor's listener failed");
    });
    store.on("changed", ({ revoked }) => heard.push([...revoked]));

    write("bob:bob-token-001\n");
    expect(store.reload()).toMatchObject({ revoked: ["alice"], added: ["bob"] });
    expect(heard).toEqual([["alice"]]);
    expect(failures).toEqual([new Error("the redactor's listener failed")]);
    expect(store.authenticate("bob-token-001")?.identity).toEqual({ kind: "owner", owner: "bob" });
    expect(store.authenticate("alice-token-1")).toBeUndefined();
  });

  it("without onListenerError, throws the listeners' failures once all of them ran, with the new tokens in force", () => {
    write("alice:alice-token-1\n");
    const store = TokenStore.open({ file });
    let later = 0;
    store.on("changed", () => {
      throw new Error("first listener failed");
    });
    store.on("changed", () => later++);
    write("bob:bob-token-001\n");
    expect(() => store.reload()).toThrow(AggregateError);
    expect(later).toBe(1);
    expect(store.authenticate("bob-token-001")?.identity).toEqual({ kind: "owner", owner: "bob" });
  });

  it("refuses to start from a file others can read", () => {
    write("alice:alice-token-1\n");
    chmodSync(file, 0o644);
    expect(() => TokenStore.open({ file })).toThrow(
      /BERTH_TOKENS_FILE: .* group and others must have no access/,
    );
  });
});
