import { describe, expect, it } from "vitest";
import { EventQueue } from "../src/event-queue.ts";

describe("EventQueue", () => {
  it("gives pushed events in order, whether they come before or after the consumer asks", async () => {
    const queue = new EventQueue<number>();
    queue.push(1);
    expect(await queue.next()).toEqual({ value: 1, done: false });
    const waiting = queue.next();
    await expect(queue.next()).rejects.toThrow(/pending/); // one consumer: a second waiting next() is a bug
    queue.push(2);
    queue.push(3);
    expect(await waiting).toEqual({ value: 2, done: false });
    expect(await queue.next()).toEqual({ value: 3, done: false });
  });

  it("ends cleanly on break, running onReturn once", async () => {
    let returned = 0;
    const queue = new EventQueue<number>({ onReturn: () => returned++ });
    queue.push(1);
    queue.push(2);
    const seen: number[] = [];
    for await (const n of queue) {
      seen.push(n);
      break;
    }
    expect(seen).toEqual([1]);
    expect(returned).toBe(1);
    await queue.return();
    queue.end();
    expect(returned).toBe(1);
    expect(await queue.next()).toEqual({ value: undefined, done: true });
    queue.push(3); // ignored once ended
    expect(queue.size).toBe(0);
  });

  it("wakes a waiting consumer with done when ended, and gives what was buffered first", async () => {
    const queue = new EventQueue<string>();
    const waiting = queue.next();
    queue.end();
    expect(await waiting).toEqual({ value: undefined, done: true });

    const buffered = new EventQueue<string>();
    buffered.push("a");
    buffered.end();
    expect(await buffered.next()).toEqual({ value: "a", done: false });
    expect(await buffered.next()).toEqual({ value: undefined, done: true });
  });

  it("throws the error it was ended with, once, after the buffered events", async () => {
    const queue = new EventQueue<number>();
    queue.push(1);
    const error = new Error("revoked");
    queue.end(error);
    expect(await queue.next()).toEqual({ value: 1, done: false });
    await expect(queue.next()).rejects.toBe(error);
    expect(await queue.next()).toEqual({ value: undefined, done: true });

    const waiting = new EventQueue<number>();
    const pending = waiting.next();
    waiting.end(error);
    await expect(pending).rejects.toBe(error);
  });

  it("holds at most its bound, dropping the oldest and counting them", async () => {
    const queue = new EventQueue<number>({ bound: 3 });
    for (let i = 1; i <= 5; i++) queue.push(i);
    expect(queue.dropped).toBe(2);
    expect(queue.size).toBe(3);
    const seen: number[] = [];
    queue.end();
    for await (const n of queue) seen.push(n);
    expect(seen).toEqual([3, 4, 5]);
  });

  it("stays bounded over many events without growing its storage without end", async () => {
    const queue = new EventQueue<number>({ bound: 10_000 });
    for (let i = 0; i < 50_000; i++) queue.push(i);
    expect(queue.size).toBe(10_000);
    expect(queue.dropped).toBe(40_000);
    expect(await queue.next()).toEqual({ value: 40_000, done: false });
  });
});
