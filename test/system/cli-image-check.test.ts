import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ImageCheckResult } from "#protocol";
import { runBerth } from "../helpers/berth-cli.ts";
import { TOKENS, useTestServer } from "../helpers/test-server.ts";
import { buildThrowawayImage, removeImage } from "../helpers/throwaway-image.ts";

const LABELLED_NODE = `FROM berth/runtime-node:24
LABEL berth.runtime=node berth.entry=index.js berth.command="[\\"node\\",\\"index.js\\"]" berth.protocol=1
CMD ["node", "index.js"]
`;
const EXITS_AT_ONCE = `FROM berth/runtime-node:24
LABEL berth.runtime="" berth.entry="" berth.command="" berth.protocol=""
CMD ["node", "-e", "console.error('no config found in /etc/bot'); process.exit(3)"]
`;

describe("berth image check, the compiled CLI against a real berth", () => {
  const server = useTestServer();
  let good = "";
  let exits = "";
  let work: string;
  let env: (who: keyof typeof TOKENS) => Record<string, string>;

  beforeAll(async () => {
    [good, exits] = await Promise.all([
      buildThrowawayImage(LABELLED_NODE, "cli-imgcheck-good"),
      buildThrowawayImage(EXITS_AT_ONCE, "cli-imgcheck-exits"),
    ]);
    work = await mkdtemp(join(tmpdir(), "berth-cli-img-"));
    env = (who) => ({
      BERTH_URL: server.url,
      BERTH_TOKEN: TOKENS[who],
      XDG_CONFIG_HOME: join(work, "config"),
    });
  });

  afterAll(async () => {
    await Promise.all([good, exits].map((tag) => (tag ? removeImage(tag) : undefined)));
    await rm(work, { recursive: true, force: true });
  });

  it("prints a table of passed checks and exits 0 for an image berth can run", async () => {
    const res = await runBerth(["image", "check", good], env("admin"));
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    const lines = res.stdout.split("\n");
    expect(lines[0]).toBe(
      `${good}: berth can run workloads in it (not in BERTH_ALLOWED_IMAGES: add it there for clients to use it)`,
    );
    expect(lines).toContainEqual(expect.stringMatching(/^CHECK +RESULT +DETAILS$/));
    for (const check of ["image", "labels", "command", "entry", "start", "workdir", "connect", "request"])
      expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^${check} +passed +\\S`)));
    expect(res.stdout).not.toContain("What to do");
  });

  it("exits 1 for an image whose workload exits, showing what failed, what to do and its output", async () => {
    const res = await runBerth(["image", "check", exits], env("admin"));
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(/^connect +FAILED +The workload exited with code 3 before it connected/m);
    expect(res.stdout).toMatch(/^request +skipped +/m);
    expect(res.stdout).toContain("What to do:\n  connect: ");
    expect(res.stdout).toContain(
      "The workload's last output (it exited with code 3):\n  no config found in /etc/bot",
    );
  });

  it("runs a folder given with --code, and answers --json for scripts", async () => {
    const dir = join(work, "bot");
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir);
    await writeFile(
      join(dir, "index.js"),
      "require('@berth/workload').connect().onRequest((d) => ({ mine: d }));\n",
    );
    const res = await runBerth(["image", "check", good, "--code", dir, "--json"], env("admin"));
    expect(res.code).toBe(0);
    const result = JSON.parse(res.stdout) as ImageCheckResult;
    expect(result).toMatchObject({ ok: true, code: "given", image: good });
  });

  it("refuses an owner's token: exit 1 with FORBIDDEN", async () => {
    const res = await runBerth(["image", "check", good], env("alice"));
    expect(res.code).toBe(1);
    expect(res.stderr).toContain("FORBIDDEN");
    expect(res.stdout).toBe("");
  });
});
