import { describe, expect, it } from "vitest";
import { execBytes, MAX_EXEC_BYTES } from "../../src/containers/container-spec.ts";
import { useTestServer } from "../helpers/test-server.ts";

/**
 * The bound on what a workload's process starts with (env, secretEnv and
 * command together) is one the real kernel honours: a spec at the bound
 * starts and its workload sees every byte; the spec that used to be allowed
 * (256 values of 32 KiB), which no process could start with, is refused up
 * front instead of failing at every start with "argument list too long".
 */
describe("the environment a workload starts with", () => {
  const server = useTestServer();

  it(`takes ${MAX_EXEC_BYTES} bytes of env and secrets, which the workload sees whole`, async () => {
    const alice = await server.connect("alice");
    const env: Record<string, string> = {};
    for (let i = 0; i < 31; i++) env[`V${i}`] = String(i).padEnd(32_768, "v");
    const secretEnv = { API_TOKEN: "s3cret-value-for-the-bound" };
    env.LAST = "w".repeat(MAX_EXEC_BYTES - execBytes({ env, secretEnv }) - "LAST=".length - 1);
    expect(execBytes({ env, secretEnv })).toBe(MAX_EXEC_BYTES);

    const app = await alice.containers.create({
      name: "full-env",
      env,
      secretEnv,
      code: {
        files: {
          "index.js":
            "require('@berth/workload').connect().onRequest(() => Object.entries(process.env).filter(([k]) => /^V\\d+$|^LAST$/.test(k)).reduce((n, [, v]) => n + v.length, 0));\n",
        },
      },
    });
    const expected = Object.values(env).reduce((n, v) => n + v.length, 0);
    expect(await app.request("sizes")).toBe(expected);
    await app.delete();
  });

  it("refuses the spec no process could start with, before anything is made", async () => {
    const alice = await server.connect("alice");
    const env = Object.fromEntries(Array.from({ length: 256 }, (_, i) => [`V${i}`, "v".repeat(32_768)]));
    await expect(alice.containers.create({ name: "too-much-env", env })).rejects.toMatchObject({
      code: "VALIDATION_FAILED",
      message: expect.stringContaining("argument list too long"),
    });
    expect((await alice.containers.list().page()).items).toEqual([]);
  });
});
