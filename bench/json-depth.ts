import { MAX_FRAME_DEPTH } from "../src/channel/protocol.ts";
import { jsonTextTooDeep, jsonValueProblem } from "../src/util/json-depth.ts";
import { PAYLOADS } from "./payloads.ts";

/**
 * `npm run bench -- json-depth`: what the depth checks add per frame on the
 * channel's hot path, beside the work each path does anyway — JSON.parse of a
 * workload's frame (the text check runs before it), and zod's validation of a
 * client's request (the value walk runs within it) approximated by the walk
 * alone against JSON.parse. The channel payloads (100 B and 64 KiB), plus a
 * 64 KiB frame of small objects, the worst shape for the text check (every
 * character outside a string is looked at).
 */
export async function run(): Promise<void> {
  const objects = Array.from({ length: 1200 }, (_, i) => ({ id: i, ok: true, n: [i, i + 1] }));
  const cases = [
    ...PAYLOADS.map((p) => ({ name: p.name, data: p.data })),
    { name: `64 KiB of objects`, data: objects },
  ];
  const rows: string[][] = [];
  for (const c of cases) {
    const frame = `{"type":"response","id":"12345","data":${JSON.stringify(c.data)}}`;
    const iterations = Math.max(200, Math.round(20_000_000 / frame.length));
    const parse = time(iterations, () => JSON.parse(frame));
    const text = time(iterations, () => jsonTextTooDeep(frame, MAX_FRAME_DEPTH));
    const walk = time(iterations, () => jsonValueProblem(c.data));
    rows.push([
      c.name,
      `${frame.length} B`,
      ns(parse),
      ns(text),
      `${((text / parse) * 100).toFixed(1)}%`,
      ns(walk),
      `${((walk / parse) * 100).toFixed(1)}%`,
    ]);
  }
  const header = ["payload", "frame", "JSON.parse", "text check", "vs parse", "value walk", "vs parse"];
  process.stdout.write(`| ${header.join(" | ")} |\n|${header.map(() => "---").join("|")}|\n`);
  for (const r of rows) process.stdout.write(`| ${r.join(" | ")} |\n`);
}

/** Median ns per call over 7 rounds, after a warm-up round. */
function time(iterations: number, fn: () => unknown): number {
  const rounds: number[] = [];
  for (let round = 0; round < 8; round++) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) fn();
    const per = Number(process.hrtime.bigint() - t) / iterations;
    if (round > 0) rounds.push(per);
  }
  rounds.sort((a, b) => a - b);
  return rounds[Math.floor(rounds.length / 2)] as number;
}

function ns(value: number): string {
  return value >= 1000 ? `${(value / 1000).toFixed(1)} µs` : `${Math.round(value)} ns`;
}
