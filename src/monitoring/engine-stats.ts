/**
 * The engine's stats API, as the fallback sampler needs it: one snapshot of
 * `GET /containers/{id}/stats?stream=false` (dockerode:
 * `container.stats({ stream: false })`), parsed JSON returned as is. With
 * `stream: false` the engine waits for two of its own readings (about 1 s), so
 * the answer carries `precpu_stats` and a CPU figure can be computed from it.
 * berth's Docker adapter implements this; errors are its berth errors.
 */
export interface EngineStats {
  stats(dockerId: string): Promise<unknown>;
}
