import { availableParallelism } from "node:os";

export type HoldEvent =
  | { kind: "held" | "released"; containerKey: string; dockerId: string; nanoCpus: number }
  | { kind: "failed"; containerKey: string; dockerId: string; err: unknown };

export interface OutputHoldsOptions {
  /** The CPU limit a container is meant to have (its spec's), given back when a hold ends. */
  nanoCpusOf: (containerKey: string) => number | undefined;
  /** Changes a running container's CPU limit in place (the engine's container update). */
  setCpuLimit: (dockerId: string, nanoCpus: number) => Promise<void>;
  /** How long a hold lasts, and the CPU it holds at first and at its second step (cores). */
  holdMs: number;
  heldCpus: number;
  leastCpus: number;
  /** A hold ended by its own timer: the monitor judges the container afresh. */
  onEnded: (containerKey: string) => void;
  /** A failed update that need not be retried: the container is gone (default: none is). */
  isGone?: (err: unknown) => boolean;
  onHold?: (event: HoldEvent) => void;
}

interface Hold {
  dockerId: string;
  restoreNanoCpus: number;
  /** The limit it is held at now. */
  nanoCpus: number;
  /** When the hold began (monotonic ms of the reading that started it). */
  sinceMs: number;
  timer: NodeJS.Timeout;
}

/** A limit to give back that the engine has not taken yet. */
interface Restore {
  dockerId: string;
  nanoCpus: number;
  inFlight: boolean;
}

/**
 * The CPU holds of workloads over the output limit: a hold lowers a
 * container's CPU limit in place, may step down once, and gives the
 * container's own limit back when its time is up, when the container stops,
 * or when berth closes. A give-back the engine refused stays pending and is
 * tried again at the container's next sample (`retry`): a container must not
 * stay at 0.05 CPU until it stops because the engine was busy once. Updates of
 * one container run one after another, in the order asked: a hold and the
 * give-back of a container that stopped right after it cannot overtake each
 * other (the last to land wins).
 */
export class OutputHolds {
  readonly #options: OutputHoldsOptions;
  readonly #holds = new Map<string, Hold>();
  readonly #restores = new Map<string, Restore>();
  /** The last update asked for, per engine id: the next one waits for it. */
  readonly #queues = new Map<string, Promise<void>>();
  readonly #updates = new Set<Promise<void>>();

  constructor(options: OutputHoldsOptions) {
    this.#options = options;
  }

  /** How many containers are held back now. */
  get held(): number {
    return this.#holds.size;
  }

  /** How many give-backs wait for the engine to take them. */
  get pendingRestores(): number {
    return this.#restores.size;
  }

  /** When the container's hold began and what it is held at, or undefined when it is not held. */
  of(containerKey: string): { sinceMs: number; nanoCpus: number } | undefined {
    return this.#holds.get(containerKey);
  }

  /**
   * Holds the container at `heldCpus`, or at its own limit when that is lower (a hold never raises
   * a limit). Returns the CPU it is held to in cores; its own limit without a hold when that is
   * already at or below `heldCpus`.
   */
  hold(containerKey: string, dockerId: string, atMs: number): number {
    const own = this.#options.nanoCpusOf(containerKey) ?? availableParallelism() * 1e9;
    const nanoCpus = Math.round(this.#options.heldCpus * 1e9);
    if (own <= nanoCpus) return own / 1e9;
    const timer = setTimeout(() => {
      this.release(containerKey);
      this.#options.onEnded(containerKey);
    }, this.#options.holdMs);
    timer.unref();
    this.#holds.set(containerKey, { dockerId, restoreNanoCpus: own, nanoCpus, sinceMs: atMs, timer });
    // A give-back still pending is overtaken by this hold, whose own give-back comes later.
    this.#restores.delete(containerKey);
    this.#update(containerKey, dockerId, nanoCpus, "held");
    return nanoCpus / 1e9;
  }

  /** Holds harder, at `leastCpus` (once): the workload still writes over the limit at `heldCpus`. */
  stepDown(containerKey: string): void {
    const hold = this.#holds.get(containerKey);
    const least = Math.round(this.#options.leastCpus * 1e9);
    if (hold === undefined || hold.nanoCpus <= least) return;
    hold.nanoCpus = least;
    this.#update(containerKey, hold.dockerId, least, "held");
  }

  /** Ends the container's hold, if any, giving its own limit back. */
  release(containerKey: string): void {
    const hold = this.#holds.get(containerKey);
    if (hold === undefined) return;
    clearTimeout(hold.timer);
    this.#holds.delete(containerKey);
    this.#restore(containerKey, hold.dockerId, hold.restoreNanoCpus);
  }

  /**
   * A container first seen at exactly a held limit that is not its own was held by a berth that
   * died during the hold (the engine keeps updated limits): give it its own back.
   */
  giveBackLeftover(containerKey: string, dockerId: string, nanoCpus: number | undefined): void {
    const own = this.#options.nanoCpusOf(containerKey);
    if (own === undefined || nanoCpus === undefined || own === nanoCpus) return;
    if (heldNanoCpus(this.#options).includes(nanoCpus)) this.#restore(containerKey, dockerId, own);
  }

  /** The container was sampled: a give-back the engine refused earlier is tried again. */
  retry(containerKey: string, dockerId: string): void {
    const restore = this.#restores.get(containerKey);
    if (restore === undefined || restore.inFlight) return;
    // A container made anew under the same key has its own limit from its spec.
    if (restore.dockerId !== dockerId) this.#restores.delete(containerKey);
    else this.#restore(containerKey, dockerId, restore.nanoCpus);
  }

  /** Gives every hold back and waits for the engine's answers (a refused one is not retried). Idempotent. */
  async close(): Promise<void> {
    for (const key of [...this.#holds.keys()]) this.release(key);
    await Promise.allSettled([...this.#updates]);
  }

  #restore(containerKey: string, dockerId: string, nanoCpus: number): void {
    const restore: Restore = { dockerId, nanoCpus, inFlight: true };
    this.#restores.set(containerKey, restore);
    this.#update(containerKey, dockerId, nanoCpus, "released", (ok, err) => {
      restore.inFlight = false;
      if (this.#restores.get(containerKey) !== restore) return;
      if (ok || this.#options.isGone?.(err)) this.#restores.delete(containerKey);
    });
  }

  #update(
    containerKey: string,
    dockerId: string,
    nanoCpus: number,
    kind: "held" | "released",
    settled?: (ok: boolean, err?: unknown) => void,
  ): void {
    const { setCpuLimit, onHold } = this.#options;
    const update = (this.#queues.get(dockerId) ?? Promise.resolve())
      .then(() => setCpuLimit(dockerId, nanoCpus))
      .then(
        () => {
          settled?.(true);
          onHold?.({ kind, containerKey, dockerId, nanoCpus });
        },
        (err: unknown) => {
          settled?.(false, err);
          onHold?.({ kind: "failed", containerKey, dockerId, err });
        },
      )
      .finally(() => {
        this.#updates.delete(update);
        if (this.#queues.get(dockerId) === update) this.#queues.delete(dockerId);
      });
    this.#queues.set(dockerId, update);
    this.#updates.add(update);
  }
}

/** The limits a hold sets, in nano-CPUs: a container found at one of them may be a hold left behind. */
export function heldNanoCpus(o: { heldCpus: number; leastCpus: number }): number[] {
  return [o.heldCpus, o.leastCpus].map((cpus) => Math.round(cpus * 1e9));
}
