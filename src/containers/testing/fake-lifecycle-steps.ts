import type { ContainerState } from "#protocol";
import type { CodeEntryList } from "../../code/code-entry.ts";
import { currentRelease } from "../../code/release-pointer.ts";
import { ConflictError, NotFoundError } from "../../errors/errors.ts";
import type { ContainerRecord, ContainerStore } from "../../store/store-ports.ts";
import type { Actor } from "../actor.ts";
import type { LifecycleSteps, OperationSteps, SteppedOperation } from "../lifecycle-steps.ts";
import { resolveContainer } from "../resolve-container.ts";
import { assertTransition } from "../state-transitions.ts";

/** What the workload does when a step reaches it, by the release its code pointer names then. */
export type WorkloadScript = (release: number | undefined, record: ContainerRecord) => Promise<void>;

/**
 * LifecycleSteps without an engine, over a real ContainerStore: each step is
 * written down in `steps` (`stop`, `start@2`, `ready@2`, `reach running`…),
 * with the release the code pointer names when it is taken; states are
 * written to the store and checked against the transition table, as the
 * lifecycle checks them. What the workload does is the test's to say
 * (`onStart`, `onReady`, `onStop`); by default every step succeeds.
 */
export class FakeLifecycleSteps implements LifecycleSteps {
  readonly steps: string[] = [];
  /** Each operation run, and whether it ended well. */
  readonly operations: Array<{ op: SteppedOperation; id: string; ok: boolean }> = [];
  /** Containers with an operation under way: `runOperation` answers CONFLICT, recovery skips them. */
  readonly busy = new Set<string>();
  onStop: WorkloadScript = async () => {};
  onStart: WorkloadScript = async () => {};
  onReady: WorkloadScript = async () => {};
  /** What the workload printed, as `recentOutput` answers it. */
  output: string[] = [];
  /** What `checkEntryFile` says of new code. */
  checkEntries: (entries: CodeEntryList) => Promise<void> = async () => {};
  readonly #repo: ContainerStore;
  readonly #codeDir: (id: string) => string;

  constructor(repo: ContainerStore, codeDir: (id: string) => string) {
    this.#repo = repo;
    this.#codeDir = codeDir;
  }

  resolve(actor: Actor, ref: string): Promise<ContainerRecord> {
    return resolveContainer(this.#repo, actor, ref);
  }

  /** The ids whose lock a test says was lost: a fenced write on them fails CONFLICT. */
  readonly lockLost = new Set<string>();

  assertHeld(record: ContainerRecord): void {
    if (this.lockLost.has(record.id)) throw new ConflictError("lost the container's lock");
  }

  async runOperation<T, P = undefined>(
    op: SteppedOperation,
    record: ContainerRecord,
    steps: OperationSteps<T, P>,
  ): Promise<T> {
    try {
      const prepared = (steps.prepare ? await steps.prepare() : undefined) as P;
      if (this.busy.has(record.id))
        throw new ConflictError("Another operation is in progress on this container.");
      this.busy.add(record.id);
      try {
        const current = await this.#repo.get(record.id);
        if (!current) throw new NotFoundError();
        const result = await steps.inTurn(current, prepared);
        this.operations.push({ op, id: record.id, ok: true });
        return result;
      } finally {
        this.busy.delete(record.id);
      }
    } catch (err) {
      this.operations.push({ op, id: record.id, ok: false });
      throw err;
    }
  }

  async stop(record: ContainerRecord): Promise<void> {
    await this.#step("stop", record, this.onStop);
  }

  async start(record: ContainerRecord): Promise<number> {
    const since = Date.now();
    await this.#step("start", record, this.onStart);
    return since;
  }

  /** The readiness wait each `waitUntilReady` was given, in order. */
  readonly readyTimeouts: number[] = [];

  async waitUntilReady(record: ContainerRecord, _since?: number, timeoutMs?: number): Promise<void> {
    if (timeoutMs !== undefined) this.readyTimeouts.push(timeoutMs);
    await this.#step("ready", record, this.onReady);
  }

  async recentOutput(): Promise<string[]> {
    return [...this.output];
  }

  async reach(
    record: ContainerRecord,
    state: ContainerState,
    reason: string,
    changes: Partial<ContainerRecord> = {},
  ): Promise<void> {
    if (record.state === state && Object.keys(changes).length === 0) return;
    assertTransition(record.state, state, "operation");
    await this.#repo.update(record.id, { ...changes, state });
    Object.assign(record, changes, { state });
    this.steps.push(`reach ${state}: ${reason}`);
  }

  async startRunning(
    record: ContainerRecord,
    reason: string,
    changes: Partial<ContainerRecord> = {},
  ): Promise<void> {
    await this.start(record);
    await this.reach(record, "running", reason, { startedAt: Date.now(), exitCode: null, ...changes });
  }

  checkEntryFile(_record: ContainerRecord, entries: CodeEntryList): Promise<void> {
    return this.checkEntries(entries);
  }

  /** Marks the text as presented, so that a test sees it went through here. */
  presentWorkloadText(_record: ContainerRecord, text: string): string {
    return `«${text}»`;
  }

  all(): Promise<ContainerRecord[]> {
    return this.#repo.all();
  }

  findById(id: string): Promise<ContainerRecord | undefined> {
    return this.#repo.get(id);
  }

  underWay(id: string): boolean {
    return this.busy.has(id);
  }

  recoveryTurn<T>(_id: string, fn: () => Promise<T>): Promise<T> {
    return fn();
  }

  async #step(name: string, record: ContainerRecord, script: WorkloadScript): Promise<void> {
    const release = await currentRelease(this.#codeDir(record.id));
    this.steps.push(`${name}@${release ?? "none"}`);
    await script(release, record);
  }
}
