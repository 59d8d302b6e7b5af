import type { ContainerSpecInfo } from "#protocol";
import type { StoredSpec } from "./container-spec.ts";

/**
 * The specs as shown (toSpecInfo), kept until what the owner's redactor
 * hides changes. Building one is bounded (each value cut to 1 KiB before it
 * is redacted, 64 KiB in all) but still costs a few milliseconds, and a
 * `container:status { spec: true }` of a few bytes would make berth pay that
 * again at every ask. A spec never changes after the create, so its shown
 * form stands until its owner's generation moves in the secret registry
 * (one of the owner's creates or deletes, the owner's token reloaded) — an
 * owner's generation, not a global one, so that bob's creates in a loop do
 * not make berth build alice's specs again.
 *
 * Keyed by the stored spec object itself (the repository's cache hands out
 * records that share it), weakly: when a container is deleted and its record
 * forgotten, its entry goes with it, and nothing here needs clearing.
 *
 * @example
 *   const shown = cache.get(record.spec, secrets.generationOf(record.owner), () => toSpecInfo(record.spec, defaults, redactor));
 */
export class SpecInfoCache {
  readonly #entries = new WeakMap<StoredSpec, { generation: number; info: ContainerSpecInfo }>();

  /** The kept form of `spec` when made at `generation`, else `build()`'s (kept). Shared: never change it. */
  get(spec: StoredSpec, generation: number, build: () => ContainerSpecInfo): ContainerSpecInfo {
    const kept = this.#entries.get(spec);
    if (kept?.generation === generation) return kept.info;
    const info = build();
    this.#entries.set(spec, { generation, info });
    return info;
  }
}
