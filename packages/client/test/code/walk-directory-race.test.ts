import type * as fsPromises from "node:fs/promises";
import { mkdir, mkdtemp, rm, symlink, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

/**
 * A folder that changes while it is walked: after each of the walk's lstat
 * calls, `onLstat` runs with the path, standing in for whoever changes the
 * folder between that look and what the walk does next.
 */
let onLstat: ((path: string) => Promise<void>) | undefined;
vi.mock("node:fs/promises", async (importOriginal) => {
  const actual = await importOriginal<typeof fsPromises>();
  return {
    ...actual,
    lstat: async (path: string, ...rest: []) => {
      const info = await actual.lstat(path, ...rest);
      if (onLstat) await onLstat(path);
      return info;
    },
  };
});

const { codeFromDirectory } = await import("../../src/code/code-from-directory.ts");

describe("codeFromDirectory on a folder that changes during the walk", () => {
  let dir: string;
  let outside: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "berth-code-race-"));
    outside = await mkdtemp(join(tmpdir(), "berth-code-secret-"));
    await writeFile(join(outside, "id_rsa"), "PRIVATE KEY");
  });
  afterEach(async () => {
    onLstat = undefined;
    await rm(dir, { recursive: true, force: true });
    await rm(outside, { recursive: true, force: true });
  });

  it("refuses a file swapped for a link to a file outside after it was looked at, never reading it", async () => {
    await writeFile(join(dir, "swap.txt"), "harmless");
    onLstat = async (path) => {
      if (basename(path) !== "swap.txt") return;
      await unlink(path);
      await symlink(join(outside, "id_rsa"), path);
    };
    const result = codeFromDirectory(dir);
    await expect(result).rejects.toMatchObject({
      code: "VALIDATION_FAILED",
      details: { reason: "unreadable", path: "swap.txt" },
    });
    await expect(result).rejects.not.toThrow(/PRIVATE KEY/);
  });

  it("never reads more than the limit from a file that grew after it was looked at", async () => {
    await writeFile(join(dir, "swap.txt"), "small");
    onLstat = async (path) => {
      if (basename(path) !== "swap.txt") return;
      // The same file (same inode), grown past the limit: truncate in place.
      await writeFile(path, "x".repeat(1000), { flag: "r+" });
    };
    await expect(codeFromDirectory(dir, { limits: { maxCodeBytes: 100 } })).rejects.toMatchObject({
      code: "PAYLOAD_TOO_LARGE",
      details: { reason: "too-large", path: "swap.txt" },
    });
  });

  it("refuses a file read through a folder swapped for a link after it was looked at", async () => {
    // The walk sees sub/ as a folder, then lists it through the link: the file's
    // own name is no link, so only where the opened file really is tells.
    await mkdir(join(dir, "sub"));
    await writeFile(join(dir, "sub", "id_rsa"), "harmless");
    onLstat = async (path) => {
      if (basename(path) !== "sub") return;
      onLstat = undefined;
      await rm(path, { recursive: true });
      await symlink(outside, path);
    };
    const result = codeFromDirectory(dir);
    await expect(result).rejects.toMatchObject({
      code: "VALIDATION_FAILED",
      details: { reason: "unreadable", path: "sub/id_rsa" },
    });
  });
});
