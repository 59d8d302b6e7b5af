import type { ContainerProgressEvent } from "@berth/client";
import ora, { type Ora } from "ora";
import { formatMs } from "./format.ts";
import type { Output } from "./output.ts";

/**
 * Shows the steps of a long operation (create, update, rollback, restart)
 * as berth reports them through `onProgress`: on a terminal a spinner per
 * step that turns into ✔/✖ with its time; elsewhere one plain line per step
 * that ends; with `--json` nothing (stdout holds the one document). Always
 * on stderr, so that stdout stays the command's result.
 *
 * @example
 * const steps = new StepsDisplay(out);
 * try { await handle.update(code, { onProgress: steps.onProgress }); } finally { steps.close(); }
 */
export class StepsDisplay {
  readonly #out: Output;
  readonly #spinner: Ora | undefined;
  #current: string | undefined;

  constructor(out: Output) {
    this.#out = out;
    const stream = out.stderr as NodeJS.WriteStream;
    // A terminal that reports no width (a pty nobody sized) would make ora count lines to clear as
    // Infinity; plain lines suit it better.
    if (!out.json && stream.isTTY === true && (stream.columns ?? 0) > 0) {
      this.#spinner = ora({ stream, color: "cyan" });
    }
  }

  /** The callback for `onProgress` (bound, so it can be passed as is). */
  readonly onProgress = (event: ContainerProgressEvent): void => {
    if (this.#out.json) return;
    const { step, status } = event;
    const ms = event.ms === undefined ? "" : `  ${formatMs(event.ms)}`;
    const spinner = this.#spinner;
    if (spinner === undefined) {
      if (status !== "started") this.#out.note(`${step} ${status}${ms}`);
      return;
    }
    const c = this.#out.color;
    if (status === "started") {
      this.#current = step;
      spinner.start(step);
    } else if (status === "done") {
      spinner.stopAndPersist({ symbol: c.green("✔"), text: `${step}${c.dim(ms)}` });
      this.#current = undefined;
    } else {
      spinner.stopAndPersist({ symbol: c.red("✖"), text: `${step}${c.dim(`  failed${ms}`)}` });
      this.#current = undefined;
    }
  };

  /** Stops a spinner still turning (the operation ended without a last `done`). Safe to call twice. */
  close(): void {
    if (this.#spinner?.isSpinning) {
      if (this.#current !== undefined) this.#spinner.stopAndPersist({ symbol: " ", text: this.#current });
      else this.#spinner.stop();
    }
    this.#current = undefined;
  }
}
