import { type FSWatcher, statSync, watch } from "node:fs";
import { basename, dirname } from "node:path";

/** Changes that arrive within this long are one change: an editor's save is often several writes and a rename. */
export const TOKENS_FILE_DEBOUNCE_MS = 150;

/**
 * Calls `onChange` (debounced) when the tokens file changes. The directory is
 * watched rather than the file: editors and `mv`-into-place replace the file
 * with a new inode, and a watch on the old inode would never fire again.
 *
 * An event for another name in the directory counts too when the file, its
 * links followed, is no longer the same (device, inode, size, modification
 * and change times): Kubernetes and Vault Agent mounts publish a new version
 * by renaming a `..data` symlink over the old one, so `tokens` itself — a
 * link to `..data/tokens` — never changes name, yet now reads another file.
 */
export class TokensFileWatcher {
  readonly #file: string;
  readonly #watcher: FSWatcher;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  /** What the file looked like at the last check. */
  #seen: string;
  /** Whether an event within the debounce window named the file itself. */
  #named = false;

  /** Starts watching `file` (its directory, and what the file looks like now). */
  static start(file: string, onChange: () => void, onError: (err: Error) => void): TokensFileWatcher {
    const seen = fingerprint(file);
    const name = basename(file);
    let watcher: TokensFileWatcher | undefined;
    const fsWatcher = watch(dirname(file), { persistent: false }, (_event, changed) => {
      if (watcher) watcher.#changed(changed === null || changed === name, onChange);
    });
    fsWatcher.on("error", onError);
    watcher = new TokensFileWatcher(file, fsWatcher, seen);
    return watcher;
  }

  private constructor(file: string, watcher: FSWatcher, seen: string) {
    this.#file = file;
    this.#watcher = watcher;
    this.#seen = seen;
  }

  /** `named`: the event named the file itself (some platforms give no name: then any change may be ours). */
  #changed(named: boolean, onChange: () => void): void {
    if (named) this.#named = true;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      if (this.#closed) return;
      const now = fingerprint(this.#file);
      const changedNow = this.#named || now !== this.#seen;
      this.#seen = now;
      this.#named = false;
      if (changedNow) onChange();
    }, TOKENS_FILE_DEBOUNCE_MS);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#watcher.close();
  }
}

/** The file as `stat` sees it through its links, or why it cannot be seen (a swap half-done, a file removed). */
function fingerprint(file: string): string {
  try {
    const s = statSync(file, { bigint: true });
    return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
  } catch (err) {
    return `error:${(err as NodeJS.ErrnoException).code ?? "unknown"}`;
  }
}
