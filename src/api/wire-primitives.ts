import { z } from "zod";

/** The values berth's answers and pushed events are built of (wire-schemas.ts and the *-schemas.ts by feature). */

/** A container's id. */
export const Id = z.string();
/** A moment, in milliseconds since the epoch. */
export const EpochMs = z.number();

/** Milliseconds each of `keys` took: the timings of a create or an update. */
export const Timings = <const K extends string>(keys: readonly K[]) =>
  z.object(Object.fromEntries(keys.map((k) => [k, z.number()])) as Record<K, z.ZodNumber>);
