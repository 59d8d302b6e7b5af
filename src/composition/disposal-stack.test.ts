import { describe, expect, it } from "vitest";
import { DisposalError, DisposalStack } from "./disposal-stack.ts";

describe("DisposalStack", () => {
  it("disposes of what was pushed, newest first, each awaited before the next", async () => {
    const stack = new DisposalStack();
    const order: string[] = [];
    for (const what of ["store", "channel", "sockets"])
      stack.defer(what, async () => {
        await new Promise((r) => setImmediate(r));
        order.push(what);
      });
    expect(stack.pending).toEqual(["sockets", "channel", "store"]);
    await stack.dispose();
    expect(order).toEqual(["sockets", "channel", "store"]);
    expect(stack.pending).toEqual([]);
  });

  it("runs every step when one fails, then rejects naming the steps that failed", async () => {
    const stack = new DisposalStack();
    const ran: string[] = [];
    stack.defer("store", () => ran.push("store"));
    stack.defer("channel", () => {
      throw new Error("socket busy");
    });
    stack.defer("sockets", async () => {
      ran.push("sockets");
      throw new Error("engine gone");
    });
    const failure = await stack.dispose().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(ran).toEqual(["sockets", "store"]);
    expect(failure).toBeInstanceOf(DisposalError);
    expect((failure as DisposalError).steps).toEqual(["sockets", "channel"]);
    expect((failure as DisposalError).errors.map((e: Error) => e.message)).toEqual([
      "engine gone",
      "socket busy",
    ]);
  });

  it("disposes of each step once, however often it is disposed of", async () => {
    const stack = new DisposalStack();
    let closed = 0;
    stack.defer("store", async () => {
      await new Promise((r) => setImmediate(r));
      closed++;
    });
    await Promise.all([stack.dispose(), stack.dispose()]);
    await stack.dispose();
    expect(closed).toBe(1);
  });

  it("disposes next of what is pushed while it disposes (a start still under way at close), and refuses it after", async () => {
    const stack = new DisposalStack();
    const order: string[] = [];
    stack.defer("store", () => order.push("store"));
    stack.defer("sockets", () => {
      order.push("sockets");
      stack.defer("engine monitor", () => order.push("engine monitor"));
    });
    await stack.dispose();
    expect(order).toEqual(["sockets", "engine monitor", "store"]);
    expect(() => stack.defer("late", () => {})).toThrow(/disposed of already/);
  });
});
