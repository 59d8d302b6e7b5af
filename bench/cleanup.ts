import type Dockerode from "dockerode";

/**
 * What a benchmark must undo, run last-in first-out by `run()` — from a
 * `finally`, or on Ctrl-C/SIGTERM, so that no container outlives the run.
 * Each step is tried even when an earlier one failed. Idempotent.
 */
export class Cleanup {
  readonly #steps: { what: string; fn: () => Promise<unknown> | unknown }[] = [];
  #running: Promise<void> | undefined;
  readonly #onSignal = (signal: NodeJS.Signals) => {
    process.stderr.write(`\n${signal}: cleaning up\n`);
    void this.run().finally(() => process.exit(130));
  };

  constructor() {
    process.once("SIGINT", this.#onSignal);
    process.once("SIGTERM", this.#onSignal);
  }

  add(what: string, fn: () => Promise<unknown> | unknown): void {
    this.#steps.push({ what, fn });
  }

  run(): Promise<void> {
    this.#running ??= (async () => {
      process.off("SIGINT", this.#onSignal);
      process.off("SIGTERM", this.#onSignal);
      for (const step of this.#steps.reverse()) {
        try {
          await step.fn();
        } catch (err) {
          process.stderr.write(`cleanup: ${step.what} failed: ${(err as Error).message}\n`);
        }
      }
    })();
    return this.#running;
  }
}

/** Removes (by force) every engine container carrying `label` (`key=value`); returns how many. */
export async function removeLabelled(docker: Dockerode, label: string): Promise<number> {
  const left = await docker.listContainers({ all: true, filters: { label: [label] } });
  await Promise.all(
    left.map((c) =>
      docker
        .getContainer(c.Id)
        .remove({ force: true, v: true })
        .catch(() => {}),
    ),
  );
  return left.length;
}
