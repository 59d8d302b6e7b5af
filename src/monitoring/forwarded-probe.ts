import type { ContainerTarget } from "./container-target.ts";
import type { ResourceSample } from "./resource-usage.ts";
import type { UsageProbe } from "./usage-probe.ts";

/**
 * One sample of a container's engine copy `dockerId`, taken where that copy
 * runs. `fresh`: whoever samples it there must forget what it kept of it
 * (pid, open files, CPU baseline) first — the container restarted since, or
 * this is the first sample asked for it from here.
 */
export type SampleWhereItRuns = (
  containerKey: string,
  dockerId: string,
  fresh: boolean,
) => Promise<ResourceSample>;

/**
 * A container sampled on the host it runs on, not here (cluster mode: by the
 * agent of its node, which keeps the open cgroup files and the CPU baseline
 * between samples as ContainerProbe does here). It keeps only the engine id
 * its target found, so that a sample costs one round trip and no inspect;
 * it asks the target again after `invalidate()` or a failed sample.
 *
 * ```ts
 * const probe = new ForwardedProbe(id, target, (key, dockerId, fresh) => agents.sample(key, dockerId, fresh));
 * const { usage } = await probe.sample();
 * ```
 */
export class ForwardedProbe implements UsageProbe {
  readonly #key: string;
  readonly #target: ContainerTarget;
  readonly #sample: SampleWhereItRuns;
  #dockerId: string | undefined;
  #fresh = true;

  constructor(containerKey: string, target: ContainerTarget, sample: SampleWhereItRuns) {
    this.#key = containerKey;
    this.#target = target;
    this.#sample = sample;
  }

  async sample(): Promise<ResourceSample> {
    const dockerId = this.#dockerId ?? (await this.#target.resolve()).dockerId;
    this.#dockerId = dockerId;
    const fresh = this.#fresh;
    this.#fresh = false;
    try {
      return await this.#sample(this.#key, dockerId, fresh);
    } catch (err) {
      // Moved, re-created or gone: found again, and sampled afresh, next time.
      this.invalidate();
      throw err;
    }
  }

  invalidate(): void {
    this.#dockerId = undefined;
    this.#fresh = true;
  }

  close(): void {
    this.#dockerId = undefined;
  }
}
