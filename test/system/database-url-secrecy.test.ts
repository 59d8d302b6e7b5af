import { describe, expect, inject, it } from "vitest";
import { echoCode, useTestServer } from "../helpers/test-server.ts";
import { TEST_STORE } from "../helpers/test-store.ts";

// Runs with BERTH_TEST_STORE=postgres only: then every berth of the suite keeps its store in
// PostgreSQL, reached with a URL that carries the `berth` role's password.
describe.skipIf(TEST_STORE !== "postgres")("the database URL's password", () => {
  const server = useTestServer();

  it("appears in no log line, no server:info and no activity entry", async () => {
    const password = inject("berthPostgres")?.berthPassword;
    expect(password).toBeTruthy();
    const alice = await server.connect("alice");
    const admin = await server.connect("admin");
    const c = await alice.containers.create({ name: "secrecy", code: await echoCode() });
    await c.stop();
    const seen = [
      server.logs(),
      JSON.stringify(alice.info),
      JSON.stringify(admin.info),
      JSON.stringify(await alice.activity.history()),
      JSON.stringify(await admin.activity.history()),
    ];
    for (const text of seen) expect(text).not.toContain(password);
    // The log says where berth keeps its state, the password blanked.
    const opened = server
      .logs()
      .split("\n")
      .filter((line) => line.includes('"store opened"'))
      .map((line) => JSON.parse(line) as { store?: string; url?: string });
    expect(opened).toMatchObject([{ store: "postgres", url: expect.stringContaining("[REDACTED]@") }]);
    await c.delete();
  });
});
