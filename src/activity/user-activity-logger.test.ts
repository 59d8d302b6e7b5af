import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import type { ActivityEntry } from "#protocol";
import { SecretRegistry } from "../logging/secret-registry.ts";
import { createSystemLogger } from "../logging/system-logger.ts";
import type { ActivityStore } from "../store/store-ports.ts";
import type { ActivityDraft } from "./activity-entry.ts";
import { UserActivityLogger } from "./user-activity-logger.ts";

/**
 * A store whose inserts answer when the test says, in any order (a network
 * database's commits), numbering entries in the order the inserts were made.
 */
function slowStore() {
  const answers: Array<() => void> = [];
  let nextId = 0;
  let inFlight = 0;
  let mostInFlight = 0;
  const store: ActivityStore = {
    insert: (draft: ActivityDraft, ts: number) => {
      const id = ++nextId;
      inFlight++;
      mostInFlight = Math.max(mostInFlight, inFlight);
      return new Promise<ActivityEntry>((resolve) =>
        answers.push(() => {
          inFlight--;
          resolve({ id, ts, level: draft.level, action: draft.action, message: draft.message });
        }),
      );
    },
    history: async () => [],
    prune: async () => 0,
  };
  return {
    store,
    answers,
    mostInFlight: () => mostInFlight,
  };
}

const draft = (message: string): ActivityDraft => ({
  owner: "alice",
  level: "info",
  action: "test",
  message,
});

describe("UserActivityLogger", () => {
  it("stores one entry at a time and pushes them in id order, however late the store answers", async () => {
    const { store, answers, mostInFlight } = slowStore();
    const secrets = new SecretRegistry();
    const log = createSystemLogger({
      level: "silent",
      redactor: secrets.system,
      destination: new PassThrough(),
    });
    const feed = new UserActivityLogger(store, secrets, log, { maxEntriesPerOwner: 100, maxAgeMs: 60_000 });
    const pushed: number[] = [];
    feed.on("entry", (_owner, entry) => pushed.push(entry.id));

    const recorded = ["a", "b", "c"].map((m) => feed.record(draft(m)));
    // Answered as they come: each insert is made only once the one before it has been answered.
    while (pushed.length < 3) {
      await new Promise((r) => setImmediate(r));
      answers.shift()?.();
    }
    expect((await Promise.all(recorded)).map((e) => e?.message)).toEqual(["a", "b", "c"]);
    expect(pushed).toEqual([1, 2, 3]);
    expect(mostInFlight()).toBe(1);
    await feed.close();
  });

  it("redacts an entry with the secrets in force when it was recorded, not when it is stored", async () => {
    const { store, answers } = slowStore();
    const secrets = new SecretRegistry();
    const log = createSystemLogger({
      level: "silent",
      redactor: secrets.system,
      destination: new PassThrough(),
    });
    const feed = new UserActivityLogger(store, secrets, log, { maxEntriesPerOwner: 100, maxAgeMs: 60_000 });
    secrets.addEnvironment("alice", {}, { TOKEN: "canary-4242-secret" });
    const recorded = feed.record(draft("deleted, with canary-4242-secret in its message"));
    // The container is deleted (its secrets forgotten) before the store answers.
    secrets.removeEnvironment("alice", {}, { TOKEN: "canary-4242-secret" });
    await new Promise((r) => setImmediate(r));
    answers.shift()?.();
    expect((await recorded)?.message).not.toContain("canary-4242-secret");
    await feed.close();
  });
});
