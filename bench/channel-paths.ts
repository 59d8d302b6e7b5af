import { type Cell, table } from "./channel-report.ts";
import { concurrent, type LoadResult, merge, sequential } from "./load.ts";
import { isEcho, PAYLOADS } from "./payloads.ts";

/** One way to get a payload echoed. */
export interface EchoPath {
  key: string;
  call: (data: unknown) => Promise<unknown>;
}

/** A payload at a window, and how many requests each path sends for it per round. */
interface Shape {
  payload: (typeof PAYLOADS)[number];
  inFlight: number;
  perRound: number;
}

const SHAPES: readonly Shape[] = [
  { payload: PAYLOADS[0]!, inFlight: 1, perRound: 400 },
  { payload: PAYLOADS[0]!, inFlight: 64, perRound: 4_000 },
  { payload: PAYLOADS[1]!, inFlight: 1, perRound: 100 },
  { payload: PAYLOADS[1]!, inFlight: 64, perRound: 640 },
];

async function batch(path: EchoPath, shape: Shape, count: number): Promise<LoadResult> {
  const call = () => path.call(shape.payload.data);
  return shape.inFlight === 1 ? sequential(call, count) : concurrent(call, count, shape.inFlight);
}

/**
 * Measures every path on every shape. Per shape: a warm-up batch per path
 * (whose first answer must be the payload), then `rounds` rounds in which
 * each path sends one batch, in an order rotated every round — so that all
 * paths share the machine's noise. Returns each path's cells.
 */
export async function measurePaths(
  paths: readonly EchoPath[],
  rounds: number,
  progress: (line: string) => void,
): Promise<Map<string, Cell[]>> {
  const cells = new Map<string, Cell[]>(paths.map((p) => [p.key, []]));
  for (const shape of SHAPES) {
    for (const path of paths) {
      const answer = await path.call(shape.payload.data);
      if (!isEcho(shape.payload, answer))
        throw new Error(`${path.key} did not echo the ${shape.payload.name}`);
      await batch(path, shape, Math.ceil(shape.perRound / 2));
    }
    const results = new Map<string, LoadResult[]>(paths.map((p) => [p.key, []]));
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < paths.length; i++) {
        const path = paths[(i + round) % paths.length]!;
        results.get(path.key)!.push(await batch(path, shape, shape.perRound));
      }
    }
    for (const path of paths) {
      cells.get(path.key)!.push({
        payload: shape.payload.name,
        inFlight: shape.inFlight,
        result: merge(results.get(path.key)!),
      });
    }
    progress(`measured ${shape.payload.name} with ${shape.inFlight} in flight`);
  }
  return cells;
}

/**
 * (d): the same echo through `docker exec` — a new process in the container
 * per request — which fewer rounds suffice to show: 20 one at a time, and one
 * wave of 64 at once.
 */
export async function measureExec(path: EchoPath): Promise<Cell[]> {
  const cells: Cell[] = [];
  for (const payload of PAYLOADS) {
    const answer = await path.call(payload.data);
    if (!isEcho(payload, answer)) throw new Error(`docker exec did not echo the ${payload.name}`);
    await sequential(() => path.call(payload.data), 2);
    cells.push({
      payload: payload.name,
      inFlight: 1,
      result: await sequential(() => path.call(payload.data), 20),
    });
    cells.push({
      payload: payload.name,
      inFlight: 64,
      result: await concurrent(() => path.call(payload.data), 64, 64),
    });
  }
  return cells;
}

export function notes(title: string, lines: readonly string[]): void {
  table(
    title,
    ["note"],
    lines.map((l) => [l]),
  );
}
