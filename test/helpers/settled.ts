import type { AckResponse, WireError } from "#protocol";
import { isBerthError } from "../../packages/client/src/index.ts";

/**
 * The outcome of an SDK operation in berth's answer shape — `{ ok: true,
 * data }`, or `{ ok: false, error }` from its BerthError — for a test that
 * collects many outcomes (a loop running through a fault) and judges them
 * afterwards. Anything but a BerthError is rethrown.
 *
 * @example
 *   const answers = [await settled(bot.status()), await settled(alice.containers.list().page())];
 *   expect(answers.filter((a) => !a.ok)).toEqual([]);
 */
export async function settled<T>(operation: Promise<T>): Promise<AckResponse<T>> {
  try {
    return { ok: true, data: await operation };
  } catch (err) {
    if (!isBerthError(err)) throw err;
    const { code, category, message, retryable, details } = err;
    return {
      ok: false,
      error: { code, category, message, retryable, ...(details ? { details } : {}) } as WireError,
    };
  }
}
