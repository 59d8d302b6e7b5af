import type { ContainerSpecInfo } from "#protocol";
import type { StoredSpec } from "./container-spec.ts";

/**
 * The specs as shown (toSpecInfo), kept until what the redactor hides
 * changes. A spec may hold 256 env values of 32 KiB: redacting all 8 MiB
 * takes about 100 ms, and a `container:status` of a few bytes would make
 * berth pay that again at every ask — one owner could stall everyone's
 * requests by asking in a loop. A spec never changes after the create, so
 * its shown form stands until the secret registry's generation moves (a
 * create, a delete, a token reload).
 *
 * Keyed by the stored spec object itself (the repository's cache hands out
 * records that share it), weakly: when a container is deleted and its record
 * forgotten, its entry goes with it, and nothing here needs clearing.
 *
 * @example
 *   const shown = cache.get(record.spec, secrets.generation, () => toSpecInfo(record.spec, defaults, redactor));
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
