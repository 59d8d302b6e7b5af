import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { within } from "../../test/helpers/deadline.ts";
import { publishTokensVersion, writeTokensFile } from "../../test/helpers/tokens-file.ts";
import { TOKENS_FILE_DEBOUNCE_MS, TokensFileWatcher } from "./tokens-file-watcher.ts";

describe("TokensFileWatcher", () => {
  let dir: string;
  let watcher: TokensFileWatcher | undefined;
  let changes: number;
  let changed: () => Promise<void>;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "berth-watch-"));
    changes = 0;
  });
  afterEach(() => {
    watcher?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function watch(file: string): void {
    let notify: () => void = () => {};
    changed = () =>
      within(
        5_000,
        "the watcher reports a change",
        new Promise<void>((resolve) => {
          notify = resolve;
        }),
      );
    watcher = TokensFileWatcher.start(
      file,
      () => {
        changes++;
        notify();
      },
      (err) => {
        throw err;
      },
    );
  }

  it("reports a file replaced by a rename, as editors save", async () => {
    const file = join(dir, "tokens");
    writeTokensFile(file, "alice:alice-token-1\n");
    watch(file);
    const next = changed();
    writeTokensFile(file, "bob:bob-token-001\n");
    await next;
    expect(changes).toBe(1);
  });

  it("reports a new version published by a ..data symlink swap, as Kubernetes and Vault mounts do", async () => {
    publishTokensVersion(dir, "2026_v1", "alice:alice-token-1\n");
    watch(join(dir, "tokens"));
    const next = changed();
    publishTokensVersion(dir, "2026_v2", "bob:bob-token-001\n");
    await next;
    expect(changes).toBe(1);
  });

  it("stays quiet when another file of the directory changes and the tokens file does not", async () => {
    const file = join(dir, "tokens");
    writeTokensFile(file, "alice:alice-token-1\n");
    watch(file);
    writeFileSync(join(dir, "unrelated"), "x");
    writeFileSync(join(dir, "unrelated"), "y");
    // Longer than the debounce window: the check after the events has run.
    await new Promise((r) => setTimeout(r, TOKENS_FILE_DEBOUNCE_MS * 4));
    expect(changes).toBe(0);
    const next = changed();
    writeTokensFile(file, "bob:bob-token-001\n", "inPlace");
    await next;
    expect(changes).toBe(1);
  });
});
