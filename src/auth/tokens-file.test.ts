import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseTokensFile, readTokensFile, TokensFileError } from "./tokens-file.ts";

function refusal(text: string, adminToken?: string): TokensFileError {
  try {
    parseTokensFile(text, adminToken);
  } catch (err) {
    if (err instanceof TokensFileError) return err;
    throw err;
  }
  throw new Error("the file was accepted");
}

describe("the tokens file", () => {
  it("reads owner:token lines with comments, blank lines and quota overrides", () => {
    const owners = parseTokensFile(
      "# who may connect\n\nalice:alice-token-1  containers=50 memoryMb=8192\r\n  bob:bob-token-12 cpus=1.5\n",
    );
    expect([...owners.keys()]).toEqual(["alice", "bob"]);
    expect(owners.get("alice")).toEqual({
      token: "alice-token-1",
      overrides: { containers: 50, memoryMb: 8192 },
    });
    expect(owners.get("bob")).toEqual({ token: "bob-token-12", overrides: { cpus: 1.5 } });
  });

  it.each([
    ["admin:secret-token-1", 1, /reserved for the admin/],
    ["alice:secret-token-1\nADMIN:secret-token-2", 2, /reserved for the admin/],
    ["alice:secret-token-1\nalice:secret-token-2", 2, /named twice/],
    ["alice:secret-token-1\nbob:secret-token-1", 2, /another owner/],
    ["secret-token-without-owner", 1, /owner:token/],
    ["alice:short", 1, /8–1024 characters/],
    ["alice:secret-token-1 containers=lots", 1, /'containers' must be a whole number/],
    ["alice:secret-token-1 cpus=0.001", 1, /'cpus' must be a number ≥ 0.01/],
    ["alice:secret-token-1 disk=5", 1, /key=value/],
    ["alice:secret-token-1 running=1 running=2", 1, /given twice/],
    ["al ice:secret-token-1", 1, /owner:token/],
    ["\n# ok\nbob!:secret-token-1", 3, /owner name/],
  ])("refuses %j at line %i, never quoting the line", (text, line, reason) => {
    const err = refusal(text);
    expect(err.line).toBe(line);
    expect(err.message).toMatch(reason);
    expect(err.message).toContain("BERTH_TOKENS_FILE");
    expect(err.message).not.toContain("secret-token");
  });

  it("refuses an owner token that is the admin's", () => {
    expect(refusal("alice:the-admin-token", "the-admin-token").message).toMatch(/admin's/);
  });

  describe("on disk", () => {
    const dir = mkdtempSync(join(tmpdir(), "berth-tokens-"));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it("is read when only its owner may read it, refused when group or others may", () => {
      const file = join(dir, "tokens");
      writeFileSync(file, "alice:alice-token-1\n", { mode: 0o600 });
      expect(readTokensFile(file).get("alice")?.token).toBe("alice-token-1");
      for (const mode of [0o640, 0o604, 0o660, 0o644]) {
        chmodSync(file, mode);
        expect(() => readTokensFile(file)).toThrow(/group and others must have no access \(chmod 600\)/);
      }
    });

    it("says which file is missing", () => {
      expect(() => readTokensFile(join(dir, "absent"))).toThrow(/cannot open .*absent: ENOENT/);
    });
  });
});
