import type { Cell } from "./channel-report.ts";
import { SDK_ECHO_WORKLOAD } from "./echo-workload.ts";
import { type InProcessBerth, startInProcessBerth } from "./in-process-berth.ts";
import { concurrent, type LoadResult, merge } from "./load.ts";
import { PAYLOADS } from "./payloads.ts";

const ROUNDS = 8;
const PER_ROUND = { "100 B": 4_000, "64 KiB": 800 } as const;

export interface CapCells {
  capped: Cell[];
  off: Cell[];
}

/**
 * The cost of the per-connection cap on requests in flight: the full path (c)
 * with 64 in flight through two fresh berths in this process, one with the
 * default cap (BERTH_MAX_REQUESTS_IN_FLIGHT) and one without (0), each with an
 * SDK echo container, taking turns round by round (the order swapped every
 * round) so that both share the machine's noise.
 */
export async function measureCap(progress: (line: string) => void): Promise<CapCells> {
  const started: InProcessBerth[] = [];
  try {
    const capped = await startInProcessBerth();
    started.push(capped);
    const off = await startInProcessBerth({ BERTH_MAX_REQUESTS_IN_FLIGHT: "0" });
    started.push(off);
    const subjects = [capped, off];
    const ids: string[] = [];
    for (const s of subjects) {
      const c = await s.ack("container:create", {
        name: "echo",
        code: { files: { "index.js": SDK_ECHO_WORKLOAD } },
      });
      ids.push(c.id);
    }
    const cells: CapCells = { capped: [], off: [] };
    for (const payload of PAYLOADS) {
      const name = payload.name as keyof typeof PER_ROUND;
      const call = (i: number) => async () => {
        const res = await subjects[i]!.client.emitWithAck("container:request", {
          id: ids[i]!,
          data: payload.data,
        });
        if (!res.ok) throw new Error(`${res.error.code}: ${res.error.message}`);
      };
      const results: LoadResult[][] = [[], []];
      for (const i of [0, 1]) await concurrent(call(i), PER_ROUND[name] / 2, 64);
      for (let round = 0; round < ROUNDS; round++) {
        for (const i of round % 2 === 0 ? [0, 1] : [1, 0]) {
          results[i]!.push(await concurrent(call(i), PER_ROUND[name], 64));
        }
      }
      cells.capped.push({ payload: name, inFlight: 64, result: merge(results[0]!) });
      cells.off.push({ payload: name, inFlight: 64, result: merge(results[1]!) });
      progress(`measured the cap on requests in flight, ${name}`);
    }
    return cells;
  } finally {
    for (const s of started.reverse()) await s.close();
  }
}
