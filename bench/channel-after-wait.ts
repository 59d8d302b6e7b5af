import { PAYLOADS } from "./payloads.ts";
import { percentile } from "./stats.ts";

/** The raw Socket.IO round trip (c'), back to back and right after a wait. */
export interface AfterWait {
  /** p50 in ms of (c') sent right after another (c'): the process never waited. */
  hotMs: number;
  /** p50 in ms of (c') sent right after a request to the workload: the process has just waited for it. */
  afterWaitMs: number;
}

/**
 * Not a target: why (c) one at a time costs more than (c') + (a). (c') is
 * measured with client and server in one process, which never waits; (c)
 * waits once per request for the workload, and on a machine whose idle CPUs
 * halt at once (a VM without guest halt polling) the code that runs after a
 * wait runs slower. This times the very same (c') round trip both ways, in
 * alternation, 100-byte payload, one at a time.
 */
export async function measureAfterWait(
  socketIo: (data: unknown) => Promise<unknown>,
  workload: (data: unknown) => Promise<unknown>,
  rounds = 2000,
): Promise<AfterWait> {
  const data = PAYLOADS[0]!.data;
  const hot: number[] = [];
  const afterWait: number[] = [];
  for (let i = 0; i < rounds; i++) {
    await socketIo(data);
    let t = performance.now();
    await socketIo(data);
    hot.push(performance.now() - t);
    await workload(data);
    t = performance.now();
    await socketIo(data);
    afterWait.push(performance.now() - t);
  }
  return { hotMs: percentile(hot, 50), afterWaitMs: percentile(afterWait, 50) };
}
