import { type FSWatcher, watch } from "node:fs";
import { basename, dirname } from "node:path";

/** Changes that arrive within this long are one change: an editor's save is often several writes and a rename. */
export const TOKENS_FILE_DEBOUNCE_MS = 150;

/**
 * Calls `onChange` (debounced) when the tokens file changes. The directory is
 * watched rather than the file: editors and `mv`-into-place replace the file
 * with a new inode, and a watch on the old inode would never fire again.
 */
export class TokensFileWatcher {
  readonly #watcher: FSWatcher;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(file: string, onChange: () => void, onError: (err: Error) => void) {
    const name = basename(file);
    this.#watcher = watch(dirname(file), { persistent: false }, (_event, changed) => {
      // Some platforms give no file name; then any change in the directory may be ours.
      if (changed !== null && changed !== name) return;
      clearTimeout(this.#timer);
      this.#timer = setTimeout(() => {
        if (!this.#closed) onChange();
      }, TOKENS_FILE_DEBOUNCE_MS);
    });
    this.#watcher.on("error", onError);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#watcher.close();
  }
}
