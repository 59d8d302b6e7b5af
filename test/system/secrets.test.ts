import { beforeAll, describe, expect, it } from "vitest";
import { collectActivity } from "../helpers/events.ts";
import { settled } from "../helpers/settled.ts";
import { type Client, call, useTestServer } from "../helpers/test-server.ts";
import { versioned } from "../helpers/versioned.ts";

/** Distinct canaries, one per way a secret can try to get out. */
const CANARY = {
  secretEnv: "canary-secret-env-7f3a91",
  envToken: "canary-env-token-52c8d0",
  inCode: "AKIACANARYCODE000017", // looks like a cloud access key: caught by shape
  jwt: "eyJhbGciOiJIUzI1NiJ9.eyJjYW5hcnkiOiJqd3QifQ.c2lnbmF0dXJlLWNhbmFyeS1qd3Q",
  urlPassword: "canary-url-pass-88e1",
  invalidPayload: "canary-invalid-payload-4d2e",
  bearer: "canarybearer0a1b2c3d4e5f",
};

describe("secrets never reach a client or a log", () => {
  const server = useTestServer();
  let alice: Client;
  const answers: unknown[] = [];

  beforeAll(async () => {
    alice = await server.connect("alice");
  });
  async function record<T>(p: Promise<T>): Promise<T> {
    const answer = await p;
    answers.push(answer);
    return answer;
  }

  it("keeps every canary out of acknowledgements, the activity feed, its history and the system log", async () => {
    const feed = collectActivity(alice);
    const env = { API_TOKEN: CANARY.envToken, DATABASE_URL: `postgres://app:${CANARY.urlPassword}@db/app` };
    const secretEnv = { STRIPE_KEY: CANARY.secretEnv };
    // A workload that prints and throws every secret it has, so they show up in its output.
    const leaky = [
      `console.log("env secret:", process.env.STRIPE_KEY, process.env.API_TOKEN, process.env.DATABASE_URL);`,
      `console.log("key in code: ${CANARY.inCode}", "jwt: ${CANARY.jwt}", "Authorization: Bearer ${CANARY.bearer}");`,
      `throw new Error("failed with " + process.env.STRIPE_KEY);`,
    ].join("\n");
    // Each outcome in berth's answer shape (settled): an error's message is searched too.
    const failed = await record(
      settled(
        alice.containers.create({ name: "leaky", env, secretEnv, code: { files: { "index.js": leaky } } }),
      ),
    );
    expect(failed).toMatchObject({ ok: false, error: { code: "NOT_READY", details: { cause: "exited" } } });
    if (!failed.ok) expect(String(failed.error.details?.output ?? "")).toContain("[REDACTED]");

    // Payloads that fail validation, carrying canaries in values and in the wrong places: sent as they are.
    await record(
      call(alice, "container:create", { name: "Bad Name", secretEnv: { K: CANARY.invalidPayload } }),
    );
    await record(call(alice, "container:create", { name: "x", password: CANARY.invalidPayload }));
    await record(call(alice, "container:create", { name: "x", env: { "BAD KEY": CANARY.invalidPayload } }));

    // A working container with the same secrets, through its whole life, and an update that fails and prints them.
    const good = await alice.containers.create({ name: "holder", env, secretEnv, code: versioned("v1") });
    answers.push(good.info);
    await record(settled(good.status()));
    await record(settled(alice.containers.list().page()));
    await record(settled(good.update({ files: { "index.js": leaky } })));
    await record(settled(good.stop()));
    await record(settled(good.delete()));
    await record(settled(alice.containers.get("leaky").then((leaked) => leaked.delete())));
    const history = await record(alice.activity.history({ limit: 1000 }));
    feed.stop();

    expect(history.items.length).toBeGreaterThan(3);
    const surfaces = {
      acknowledgements: JSON.stringify(answers),
      activity: JSON.stringify(feed.entries),
      history: JSON.stringify(history),
      systemLog: server.logs(),
    };
    expect(surfaces.systemLog.length).toBeGreaterThan(1000);
    for (const [surface, text] of Object.entries(surfaces)) {
      for (const [kind, canary] of Object.entries(CANARY)) {
        expect(text.includes(canary), `${kind} canary in ${surface}`).toBe(false);
      }
    }
  });
});
