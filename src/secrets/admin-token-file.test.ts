import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { adminTokenPath, loadOrCreateAdminToken } from "./admin-token-file.ts";

describe("the generated admin token's file", () => {
  let dir: string;
  let dataDir: string;
  let file: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "atf-"));
    dataDir = join(dir, "data");
    await mkdir(dataDir);
    file = adminTokenPath(join(dir, "conf", "secret.key"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("lives beside the key file, named after it", () => {
    expect(adminTokenPath("/etc/berth/secret.key")).toBe("/etc/berth/secret.admin-token");
    expect(adminTokenPath("/tmp/bt-1.secret.key")).toBe("/tmp/bt-1.secret.admin-token");
    expect(adminTokenPath("/keys/berth")).toBe("/keys/berth.admin-token");
  });

  it("is made once, mode 0600 in a directory made 0700, outside the data directory, and read back after", () => {
    const first = loadOrCreateAdminToken(file, dataDir);
    expect(first).toMatchObject({ created: true });
    expect(first.token).toMatch(/^berth_[\w-]{32}$/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, "conf")).mode & 0o777).toBe(0o700);
    expect(existsSync(join(dataDir, "admin-token"))).toBe(false);
    expect(loadOrCreateAdminToken(file, dataDir)).toEqual({ token: first.token, created: false });
  });

  it("moves a token an older berth kept in the data directory: the same token, no copy left there", () => {
    writeFileSync(join(dataDir, "admin-token"), "berth_old-token-kept-in-data\n", { mode: 0o600 });
    expect(loadOrCreateAdminToken(file, dataDir)).toEqual({
      token: "berth_old-token-kept-in-data",
      created: false,
      movedFrom: join(dataDir, "admin-token"),
    });
    expect(readFileSync(file, "utf8")).toBe("berth_old-token-kept-in-data\n");
    expect(existsSync(join(dataDir, "admin-token"))).toBe(false);
  });

  it("keeps the token in force and removes a leftover copy in the data directory", () => {
    const { token } = loadOrCreateAdminToken(file, dataDir);
    writeFileSync(join(dataDir, "admin-token"), "berth_a-copy-from-a-backup\n", { mode: 0o600 });
    expect(loadOrCreateAdminToken(file, dataDir)).toMatchObject({ token, created: false });
    expect(existsSync(join(dataDir, "admin-token"))).toBe(false);
  });

  it("refuses a token file that group or others can read", () => {
    loadOrCreateAdminToken(file, dataDir);
    chmodSync(file, 0o640);
    expect(() => loadOrCreateAdminToken(file, dataDir)).toThrow(/mode 640\); make it 0600/);
  });
});
