import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { storeEnvFor } from "./test-store.ts";

const root = new URL("../../", import.meta.url).pathname;
const END_WITH_PARENT = new URL("../../bench/end-with-parent.ts", import.meta.url).pathname;

export interface BerthProcess {
  child: ChildProcess;
  port: number;
  url: string;
  /** Every log line so far. */
  lines: string[];
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Where a test's berth keeps its key for secrets at rest unless the test says:
 * beside its data directory (outside it, as berth requires; never /etc), the
 * same for every start on that directory. The test removes it with the directory.
 */
export function secretKeyFileBeside(dataDir: string): string {
  return `${dataDir.replace(/\/+$/, "")}.secret.key`;
}

/**
 * Runs berth as its own process (`node src/main.ts`, on the Node.js 24 that
 * runs the tests), for tests that kill it: SIGKILL must leave the containers
 * running, and the next start must adopt them. The process ends itself when
 * the test's worker goes (bench/end-with-parent.ts).
 */
export async function spawnBerth(env: Record<string, string>): Promise<BerthProcess> {
  const keyFile = env.BERTH_DATA_DIR ? secretKeyFileBeside(env.BERTH_DATA_DIR) : undefined;
  // With BERTH_TEST_STORE=postgres, the data directory's database (the same one for every start on it).
  const storeEnv = env.BERTH_DATA_DIR ? await storeEnvFor(env.BERTH_DATA_DIR) : {};
  // Ended with the test's worker, however it ends (a worker killed by a signal runs no exit hook).
  const child = spawn(process.execPath, ["--import", END_WITH_PARENT, "src/main.ts"], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? "",
      BERTH_PORT: "0",
      BERTH_LOG_LEVEL: "info",
      ...(keyFile ? { BERTH_SECRET_KEY_FILE: keyFile } : {}),
      ...storeEnv,
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  const port = await new Promise<number>((resolve, reject) => {
    // A berth that does not say it listens in time is ended here: nobody else holds it to stop it later.
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`berth did not start:\n${lines.join("\n")}`));
    }, 30_000);
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on("line", (line) => {
        lines.push(line);
        if (line.includes('"berth is listening"')) {
          clearTimeout(timer);
          resolve((JSON.parse(line) as { port: number }).port);
        }
      });
    }
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`berth exited with ${code}:\n${lines.join("\n")}`));
    });
  });
  return {
    child,
    port,
    url: `http://127.0.0.1:${port}`,
    lines,
    async kill(signal = "SIGTERM") {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      await once(child, "exit");
    },
  };
}
