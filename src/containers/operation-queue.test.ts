import { describe, expect, it } from "vitest";
import { OperationQueue } from "./operation-queue.ts";

const tick = () => new Promise((r) => setImmediate(r));

describe("OperationQueue", () => {
  it("runs operations on one key one at a time, in order, even when one fails", async () => {
    const q = new OperationQueue();
    const log: string[] = [];
    const op =
      (name: string, fail = false) =>
      async () => {
        log.push(`start ${name}`);
        await tick();
        log.push(`end ${name}`);
        if (fail) throw new Error(name);
        return name;
      };
    const results = await Promise.allSettled([
      q.run("a", "1", op("1")),
      q.run("a", "2", op("2", true)),
      q.run("a", "3", op("3")),
    ]);
    expect(log).toEqual(["start 1", "end 1", "start 2", "end 2", "start 3", "end 3"]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(q.isBusy("a")).toBe(false);
  });

  it("runs operations on different keys concurrently", async () => {
    const q = new OperationQueue();
    const log: string[] = [];
    const op = (name: string) => async () => {
      log.push(`start ${name}`);
      await tick();
      log.push(`end ${name}`);
    };
    await Promise.all([q.run("a", "x", op("a")), q.run("b", "x", op("b"))]);
    expect(log.slice(0, 2)).toEqual(["start a", "start b"]);
  });

  it("refuses an exclusive operation with a retryable CONFLICT while another runs", async () => {
    const q = new OperationQueue();
    let release!: () => void;
    const running = q.run("a", "update", () => new Promise<void>((r) => (release = r)));
    await expect(q.runExclusive("a", "update", async () => {})).rejects.toMatchObject({
      code: "CONFLICT",
      retryable: true,
    });
    release();
    await running;
    await expect(q.runExclusive("a", "update", async () => "ok")).resolves.toBe("ok");
  });
});
