import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Berth } from "../../src/berth.ts";
import { loadConfig } from "../../src/config/config.ts";
import { adminTokenPath } from "../../src/secrets/admin-token-file.ts";
import { removeInstance, TOKENS } from "../helpers/test-server.ts";
import { writeTokensFile } from "../helpers/tokens-file.ts";

describe("the admin token berth generates (no BERTH_ADMIN_TOKEN)", () => {
  let dir: string;
  let dataDir: string;
  let keyFile: string;
  let tokensFile: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "bat-"));
    dataDir = join(dir, "data");
    keyFile = join(dir, "conf", "secret.key");
    tokensFile = join(dir, "tokens");
    writeTokensFile(tokensFile, `alice:${TOKENS.alice}\nbob:${TOKENS.bob}\n`);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** Builds a berth with a tokens file and no admin token, hands it to `use`, and closes it. */
  async function withBerth(use: (berth: Berth, generated: string[]) => void): Promise<void> {
    const generated: string[] = [];
    const berth = await Berth.open(
      loadConfig({
        BERTH_DATA_DIR: dataDir,
        BERTH_SECRET_KEY_FILE: keyFile,
        BERTH_TOKENS_FILE: tokensFile,
        BERTH_LOG_LEVEL: "silent",
      }),
      { onAdminTokenCreated: (token) => generated.push(token) },
    );
    try {
      use(berth, generated);
    } finally {
      await berth.close();
      await removeInstance(berth.instanceId);
    }
  }

  it("is kept beside the key file, so a copy of the data directory carries no admin access", async () => {
    let token: string | undefined;
    await withBerth((berth, generated) => {
      expect(generated).toHaveLength(1);
      token = generated[0];
      expect(berth.tokens.authenticate(token)?.identity).toEqual({ kind: "admin" });
    });
    expect(existsSync(join(dataDir, "admin-token"))).toBe(false);
    expect(existsSync(adminTokenPath(keyFile))).toBe(true);
    // The next start uses the same token, and prints nothing; alice and bob are owners, not admins.
    await withBerth((berth, generated) => {
      expect(generated).toEqual([]);
      expect(berth.tokens.authenticate(token)?.identity).toEqual({ kind: "admin" });
      expect(berth.tokens.authenticate(TOKENS.alice)?.identity).toEqual({ kind: "owner", owner: "alice" });
      expect(berth.tokens.authenticate(TOKENS.bob)?.identity).toEqual({ kind: "owner", owner: "bob" });
    });
  });

  it("moves the token an older berth kept in the data directory out of it; the same token stays the admin's", async () => {
    const old = "berth_kept-by-an-older-berth-0123456789";
    rmSync(dataDir, { recursive: true, force: true });
    // An older berth's data directory, with its admin token inside.
    await withBerth(() => {});
    rmSync(adminTokenPath(keyFile));
    writeFileSync(join(dataDir, "admin-token"), `${old}\n`, { mode: 0o600 });

    await withBerth((berth, generated) => {
      expect(generated).toEqual([]);
      expect(berth.tokens.authenticate(old)?.identity).toEqual({ kind: "admin" });
    });
    expect(existsSync(join(dataDir, "admin-token"))).toBe(false);
    expect(existsSync(adminTokenPath(keyFile))).toBe(true);
  });
});
