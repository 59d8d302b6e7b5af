import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runBerth } from "../helpers/berth-cli.ts";
import { TOKENS, useTestServer } from "../helpers/test-server.ts";

describe("the berth CLI's tokens, secrets and owners", () => {
  const server = useTestServer();
  let work: string;
  let appDir: string;
  const configOf = (who: string) => join(work, `config-${who}`);
  const as = (who: "alice" | "bob") => ({
    BERTH_URL: server.url,
    BERTH_TOKEN: TOKENS[who],
    XDG_CONFIG_HOME: configOf(who),
  });

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "berth-cli-auth-"));
    appDir = join(work, "app");
    await mkdir(appDir);
    await writeFile(
      join(appDir, "index.js"),
      await readFile(new URL("../fixtures/workloads/echo.js", import.meta.url), "utf8"),
    );
  });
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it("login reads the token from stdin, checks it, saves it readable by its owner only, and later commands use it", async () => {
    const config = join(work, "login");
    const login = await runBerth(
      ["login", server.url, "--token-stdin"],
      { XDG_CONFIG_HOME: config },
      { input: `${TOKENS.alice}\n` },
    );
    expect(login.code, login.stderr).toBe(0);
    expect(login.stdout).toContain(`Logged in to ${server.url}`);
    expect(login.stdout + login.stderr).not.toContain(TOKENS.alice);
    const file = join(config, "berth", "config.json");
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(join(config, "berth"))).mode & 0o777).toBe(0o700);
    expect(JSON.parse(await readFile(file, "utf8"))).toEqual({ url: server.url, token: TOKENS.alice });

    // No URL, no token: both come from the saved login.
    const ls = await runBerth(["ls", "--json"], { XDG_CONFIG_HOME: config });
    expect(ls.code, ls.stderr).toBe(0);
    expect(JSON.parse(ls.stdout)).toEqual(expect.any(Array));
  });

  it("login --token-stdin with nothing to read, or with --token as well, is bad usage: exit 2", async () => {
    const config = join(work, "no-token");
    const empty = await runBerth(["login", server.url, "--token-stdin"], { XDG_CONFIG_HOME: config });
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain("--token-stdin read nothing");
    const both = await runBerth(
      ["--token", TOKENS.alice, "login", server.url, "--token-stdin"],
      { XDG_CONFIG_HOME: config },
      { input: TOKENS.alice },
    );
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("--token-stdin or --token, not both");
    await expect(stat(join(config, "berth", "config.json"))).rejects.toThrow(/ENOENT/);
  });

  it("create takes secret values from its environment and from a file, never from its command line", async () => {
    // The echo workload, answering { version: true } with the secret it was given (BERTH_ is berth's prefix).
    const secretApp = join(work, "secret-app");
    await mkdir(secretApp);
    const echo = await readFile(join(appDir, "index.js"), "utf8");
    await writeFile(
      join(secretApp, "index.js"),
      echo.replace("process.env.BERTH_TEST_VERSION", "process.env.CLI_SECRET"),
    );
    const fromEnv = "from-the-environment-s3cr3t";
    const fromFile = "from-the-file-s3cr3t";
    const secretsFile = join(work, "secrets.env");
    await writeFile(secretsFile, `# test secrets\nCLI_SECRET=${fromFile}\n`, { mode: 0o600 });
    const made: string[] = [];
    try {
      for (const [name, args, env, want] of [
        ["cli-secret-env", ["--secret-env", "CLI_SECRET"], { CLI_SECRET: fromEnv }, fromEnv],
        ["cli-secret-file", ["--secret-env-file", secretsFile], {}, fromFile],
      ] as const) {
        const create = await runBerth(["create", name, "--code", secretApp, ...args], {
          ...as("alice"),
          ...env,
        });
        expect(create.code, create.stderr).toBe(0);
        made.push(name);
        expect(create.stdout + create.stderr).not.toContain(want);
        const answer = await runBerth(["request", name, '{"version": true}'], as("alice"));
        expect(answer.code, answer.stderr).toBe(0);
        expect(JSON.parse(answer.stdout)).toBe(want);
      }
      const unset = await runBerth(
        ["create", "cli-secret-unset", "--code", appDir, "--secret-env", "NOT_SET_HERE"],
        as("alice"),
      );
      expect(unset.code).toBe(2);
      expect(unset.stderr).toContain("NOT_SET_HERE is not set in this environment");
    } finally {
      if (made.length > 0) await runBerth(["rm", ...made], as("alice"));
    }
  });

  it("login with a wrong token exits 1 and saves nothing", async () => {
    const config = join(work, "refused");
    const res = await runBerth(["login", server.url, "--token", "wrong-token-0123456789"], {
      XDG_CONFIG_HOME: config,
    });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/^error UNAUTHORIZED: /m);
    await expect(stat(join(config, "berth", "config.json"))).rejects.toThrow(/ENOENT/);
  });

  it("a wrong token exits 1 with UNAUTHORIZED and says how to pass one", async () => {
    const res = await runBerth(["ls"], { ...as("alice"), BERTH_TOKEN: "wrong-token-0123456789" });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/^error UNAUTHORIZED: /m);
    expect(res.stderr).toContain("hint: pass the token with --token T, set BERTH_TOKEN");
    expect(res.stderr).not.toContain("wrong-token-0123456789");
  });

  it("bob cannot see or touch alice's container: it is NOT_FOUND to him", async () => {
    const secret = "alice-only-s3cr3t-91c4";
    const create = await runBerth(
      ["create", "cli-private", "--code", appDir, "--secret-env", `DB_PASSWORD=${secret}`, "--json"],
      as("alice"),
    );
    expect(create.code, create.stderr).toBe(0);
    // berth answers a create without secret values, and the CLI prints the answer as it came.
    expect(JSON.parse(create.stdout)).toMatchObject({ name: "cli-private", state: "running" });
    expect(create.stdout + create.stderr).not.toContain(secret);
    try {
      const status = await runBerth(["status", "cli-private"], as("bob"));
      expect(status.code).toBe(1);
      expect(status.stderr).toMatch(/^error NOT_FOUND: /m);

      const ls = await runBerth(["ls", "--json"], as("bob"));
      expect(JSON.parse(ls.stdout)).toEqual([]);

      const rm = await runBerth(["rm", "cli-private"], as("bob"));
      expect(rm.code).toBe(1);
      const request = await runBerth(["request", "cli-private", "{}"], as("bob"));
      expect(request.code).toBe(1);
      expect(request.stderr).toMatch(/^error NOT_FOUND: /m);

      const still = await runBerth(["status", "cli-private", "--json"], as("alice"));
      expect(JSON.parse(still.stdout)).toMatchObject({ name: "cli-private", state: "running" });
    } finally {
      await runBerth(["rm", "cli-private"], as("alice"));
    }
  });
});
