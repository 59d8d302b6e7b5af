/**
 * A seeded random generator (mulberry32): small, fast, and good enough to pick
 * moments and operations, so that a failing run can be replayed from its seed.
 *
 * @example
 *   const random = seededRandom(Number(process.env.BERTH_KILL_SEED ?? 1));
 *   const killAfterMs = 200 + random() * 1800;
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
