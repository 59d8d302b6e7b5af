import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createInterface } from "node:readline";
import { CLK_TCK, cpuTicks } from "./proc-stat.ts";

/** The Node.js flags `npm start` runs berth with: package.json's config.nodeFlags. */
export const BERTH_NODE_FLAGS: string = JSON.parse(
  readFileSync(new URL("../package.json", import.meta.url), "utf8"),
).config.nodeFlags;

const root = new URL("../", import.meta.url).pathname;

/** Memory of the berth process: VmRSS from /proc, and what V8 reported right after a GC. */
export interface MemoryReading {
  rssBytes: number;
  heapUsedBytes: number;
  /** What V8 holds for its heap, used or not. */
  heapTotalBytes: number;
  externalBytes: number;
  /** CPU time berth has used so far (user + system), in seconds. */
  cpuSeconds: number;
}

/**
 * berth as its own process (`node src/main.ts`, as test/helpers/berth-process.ts
 * runs it), with `--expose-gc` and bench/gc-on-signal.ts preloaded, so that its
 * memory is berth's alone and can be read after a forced GC.
 */
export class BerthChild {
  readonly child: ChildProcess;
  readonly port: number;
  readonly instanceId: string;
  /** Who waits for the next BENCH_MEMORY line, first come first served. */
  readonly #memoryLines: ((line: string) => void)[];

  private constructor(
    child: ChildProcess,
    port: number,
    instanceId: string,
    memoryLines: ((line: string) => void)[],
  ) {
    this.child = child;
    this.port = port;
    this.instanceId = instanceId;
    this.#memoryLines = memoryLines;
  }

  /**
   * `nodeFlags` defaults to the flags `npm start` runs berth with
   * (package.json's config.nodeFlags), or BENCH_BERTH_FLAGS when set.
   */
  static async spawn(
    env: Record<string, string>,
    nodeFlags = process.env.BENCH_BERTH_FLAGS ?? BERTH_NODE_FLAGS,
    /** The berth source tree to run: another checkout, for a benchmark that compares two versions. */
    tree = root,
  ): Promise<BerthChild> {
    const child = spawn(
      process.execPath,
      [
        ...nodeFlags.split(" ").filter(Boolean),
        "--expose-gc",
        "--import",
        new URL("./gc-on-signal.ts", import.meta.url).pathname,
        "src/main.ts",
      ],
      {
        cwd: tree,
        env: {
          PATH: process.env.PATH ?? "",
          ...(process.env.MALLOC_ARENA_MAX ? { MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX } : {}),
          ...(process.env.GLIBC_TUNABLES ? { GLIBC_TUNABLES: process.env.GLIBC_TUNABLES } : {}),
          BERTH_PORT: "0",
          BERTH_LOG_LEVEL: "info",
          ...env,
        },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    const lines: string[] = [];
    const memoryLines: ((line: string) => void)[] = [];
    const started = new Promise<{ port: number; instance: string }>((resolve, reject) => {
      // A berth that does not say it listens in time is ended here: nobody else holds it to stop it later.
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new Error(`berth did not start:\n${lines.join("\n")}`));
      }, 30_000);
      for (const stream of [child.stdout!, child.stderr!]) {
        createInterface({ input: stream }).on("line", (line) => {
          if (line.startsWith("BENCH_MEMORY ")) {
            memoryLines.shift()?.(line.slice("BENCH_MEMORY ".length));
            return;
          }
          if (lines.length < 200) lines.push(line);
          if (line.includes('"berth is listening"')) {
            clearTimeout(timer);
            resolve(JSON.parse(line) as { port: number; instance: string });
          }
        });
      }
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`berth exited with ${code}:\n${lines.join("\n")}`));
      });
    });
    const { port, instance } = await started;
    return new BerthChild(child, port, instance, memoryLines);
  }

  /**
   * Forces a GC in berth, then reads VmRSS three times 100 ms apart and keeps
   * the median (RSS settles a little after a collection).
   */
  async memory(): Promise<MemoryReading> {
    const reported = new Promise<string>((resolve) => this.#memoryLines.push(resolve));
    this.child.kill("SIGUSR2");
    const usage = JSON.parse(await reported) as { heapUsed: number; heapTotal: number; external: number };
    const rss: number[] = [];
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setTimeout(r, 100));
      rss.push(await vmRss(this.child.pid!));
    }
    rss.sort((a, b) => a - b);
    return {
      rssBytes: rss[1]!,
      heapUsedBytes: usage.heapUsed,
      heapTotalBytes: usage.heapTotal,
      externalBytes: usage.external,
      cpuSeconds: cpuTicks(this.child.pid!) / CLK_TCK,
    };
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill("SIGTERM");
    await once(this.child, "exit");
  }
}

async function vmRss(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kb = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
  if (kb === undefined) throw new Error(`no VmRSS for ${pid}`);
  return Number(kb) * 1024;
}
