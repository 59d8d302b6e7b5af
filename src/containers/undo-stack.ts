import type { SystemLogger } from "../logging/system-logger.ts";

/**
 * The clean-up half of a multi-step operation: each step that makes something
 * pushes how to unmake it. On failure `unwind` runs them newest first, logs
 * (but never throws) what could not be undone, and the caller rethrows the
 * original error — the one the client needs to see. It answers whether every
 * step was undone, for a caller that must finish what was left later.
 */
export class UndoStack {
  readonly #steps: Array<{ what: string; undo: () => Promise<void> | void }> = [];

  push(what: string, undo: () => Promise<void> | void): void {
    this.#steps.push({ what, undo });
  }

  async unwind(log: SystemLogger): Promise<boolean> {
    let all = true;
    for (let step = this.#steps.pop(); step; step = this.#steps.pop()) {
      try {
        await step.undo();
      } catch (err) {
        all = false;
        log.error({ err, step: step.what }, "clean-up step failed");
      }
    }
    return all;
  }
}
