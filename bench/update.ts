import { startInProcessBerth } from "./in-process-berth.ts";
import { printTable } from "./stats.ts";

/**
 * Update: `container:update` until the new release is ready (its hello has
 * arrived), beside a plain `container:restart` until ready of the same
 * container, alternating, 20 rounds each, through a real Socket.IO client.
 * No health check, so both wait for the same thing: the workload's hello.
 */
const ROUNDS = 20;

export async function run(): Promise<void> {
  const { ack, echo, close } = await startInProcessBerth();
  const update: number[] = [];
  const restart: number[] = [];
  try {
    const { id } = await ack("container:create", {
      name: "bench-update",
      code: { files: { "index.js": echo } },
    });
    for (let round = 0; round < ROUNDS + 2; round++) {
      let t = performance.now();
      await ack("container:update", {
        id,
        code: { files: { "index.js": `${echo}\n// release ${round}\n` } },
      });
      const u = performance.now() - t;
      t = performance.now();
      await ack("container:restart", { id });
      const r = performance.now() - t;
      if (round < 2) continue; // warm-up
      update.push(u);
      restart.push(r);
    }
  } finally {
    await close();
  }
  printTable(`update: ${ROUNDS} rounds, update until ready vs restart until ready (same container)`, "ms", [
    { what: "until ready", berth: update, baseline: restart },
  ]);
}
