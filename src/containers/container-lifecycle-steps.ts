import type { ContainerState } from "#protocol";
import type { CodeEntryList } from "../code/code-entry.ts";
import { presentOutputLine } from "../logging/present-output-line.ts";
import type { ContainerRecord } from "../store/store-ports.ts";
import type { Actor } from "./actor.ts";
import { requireEntryFile } from "./entry-file.ts";
import { dockerIdOf, freshRecord, type LifecycleContext } from "./lifecycle-context.ts";
import type { LifecycleSteps, OperationSteps, SteppedOperation } from "./lifecycle-steps.ts";
import { startProcess } from "./process-steps.ts";
import { waitUntilReady } from "./readiness.ts";
import { resolveContainer } from "./resolve-container.ts";

/** How many lines of output a failed gate quotes. */
const RECENT_LINES = 20;

/** The lifecycle's side of the LifecycleSteps port, over the ContainerManager's queue, tracker and state writer. */
export class ContainerLifecycleSteps implements LifecycleSteps {
  readonly #ctx: LifecycleContext;

  constructor(ctx: LifecycleContext) {
    this.#ctx = ctx;
  }

  resolve(actor: Actor, ref: string): Promise<ContainerRecord> {
    return resolveContainer(this.#ctx.options.repo, actor, ref);
  }

  assertHeld(record: ContainerRecord): void {
    this.#ctx.queue.assertHeld(record.id);
  }

  runOperation<T, P = undefined>(
    op: SteppedOperation,
    record: ContainerRecord,
    steps: OperationSteps<T, P>,
  ): Promise<T> {
    const ctx = this.#ctx;
    return ctx.operations.track(op, record, async () => {
      const prepared = (steps.prepare ? await steps.prepare() : undefined) as P;
      return ctx.queue.runExclusive(record.id, op, async () =>
        steps.inTurn(await freshRecord(ctx, record.id), prepared),
      );
    });
  }

  async stop(record: ContainerRecord): Promise<void> {
    await this.#ctx.options.docker.stopContainer(dockerIdOf(record), this.#ctx.options.config.stopTimeoutSec);
  }

  start(record: ContainerRecord): Promise<number> {
    return startProcess(this.#ctx, record);
  }

  async waitUntilReady(record: ContainerRecord, since: number, timeoutMs: number): Promise<void> {
    const { docker, channel, secrets } = this.#ctx.options;
    await waitUntilReady({
      id: record.id,
      dockerId: dockerIdOf(record),
      startedAt: since,
      timeoutMs,
      docker,
      channel,
      redactor: secrets.forOwner(record.owner),
    });
  }

  async recentOutput(record: ContainerRecord, sinceMs?: number): Promise<string[]> {
    if (!record.dockerId) return [];
    const { docker, secrets } = this.#ctx.options;
    const out = await docker.containerLogs(record.dockerId, RECENT_LINES, sinceMs).catch(() => []);
    const redactor = secrets.forOwner(record.owner);
    return out.map((l) => presentOutputLine(l, redactor));
  }

  async reach(
    record: ContainerRecord,
    state: ContainerState,
    reason: string,
    changes: Partial<ContainerRecord> = {},
  ): Promise<void> {
    if (record.state === state && Object.keys(changes).length === 0) return;
    await this.#ctx.states.write(record, state, reason, "operation", changes);
  }

  async startRunning(
    record: ContainerRecord,
    reason: string,
    changes: Partial<ContainerRecord> = {},
  ): Promise<void> {
    await startProcess(this.#ctx, record);
    await this.reach(record, "running", reason, { startedAt: Date.now(), exitCode: null, ...changes });
  }

  async checkEntryFile(record: ContainerRecord, entries: CodeEntryList): Promise<void> {
    if (record.spec.command) return;
    // The engine container exists and holds its image; one removed by force since is the engine's to report.
    const found = await this.#ctx.images.describe(record.image);
    if (found) requireEntryFile(entries, found, record.spec.runtime ?? found.labels.runtime);
  }

  presentWorkloadText(record: ContainerRecord, text: string): string {
    return presentOutputLine(text, this.#ctx.options.secrets.forOwner(record.owner));
  }

  all(): Promise<ContainerRecord[]> {
    return this.#ctx.options.repo.all();
  }

  findById(id: string): Promise<ContainerRecord | undefined> {
    return this.#ctx.options.repo.get(id);
  }

  underWay(id: string): boolean {
    return this.#ctx.queue.current(id) !== undefined;
  }

  recoveryTurn<T>(id: string, fn: () => Promise<T>): Promise<T> {
    return this.#ctx.queue.run(id, "recover", fn);
  }
}
