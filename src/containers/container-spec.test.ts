import { describe, expect, it } from "vitest";
import { ContainerSpec, execBytes, LabelMap, MAX_EXEC_BYTES } from "./container-spec.ts";

describe("labels", () => {
  it.each([
    "berth.owner",
    "com.docker.compose.project",
    "com.docker.swarm.task.id",
    "COM.DOCKER.compose.service",
    "io.docker.x",
    "org.dockerproject.x",
    "org.opencontainers.image.source",
  ])("reserves %s", (key) => {
    expect(LabelMap.safeParse({ [key]: "v" }).success).toBe(false);
  });

  it.each(["team", "com.example.owner", "my.com.docker.x", "com.dockerhub-mirror"])("allows %s", (key) => {
    expect(LabelMap.safeParse({ [key]: "v" }).success).toBe(true);
  });
});

describe("what a process starts with", () => {
  /** `n` env values of `size` bytes under short keys. */
  const env = (n: number, size: number) =>
    Object.fromEntries(Array.from({ length: n }, (_, i) => [`V${i}`, "v".repeat(size)]));

  it("counts each KEY=value and argument in UTF-8 with its NUL, across env, secretEnv and command", () => {
    expect(execBytes({ env: { A: "é" }, secretEnv: { TOKEN_X: "abcd" }, command: ["node", "ü"] })).toBe(
      1 + 2 + 2 + (7 + 4 + 2) + 5 + 3,
    );
  });

  it(`takes a spec of ${MAX_EXEC_BYTES} bytes and refuses one byte more, naming the field`, () => {
    // 31 values of 32 KiB, then one that brings the total to the bound exactly.
    const big = env(31, 32_768);
    const used = execBytes({ env: big });
    const last = MAX_EXEC_BYTES - used - "LAST=".length - 1;
    const at = { name: "x", env: { ...big, LAST: "w".repeat(last) } };
    expect(execBytes(at)).toBe(MAX_EXEC_BYTES);
    expect(ContainerSpec.safeParse(at).success).toBe(true);

    const over = ContainerSpec.safeParse({ ...at, command: ["x"] });
    expect(over.success).toBe(false);
    expect(over.error?.issues[0]).toMatchObject({ path: ["env"] });
    expect(over.error?.issues[0]?.message).toContain("argument list too long");
  });

  it("refuses the old largest env, 256 values of 32 KiB, which no process could start with", () => {
    expect(ContainerSpec.safeParse({ name: "x", env: env(256, 32_768) }).success).toBe(false);
  });
});
