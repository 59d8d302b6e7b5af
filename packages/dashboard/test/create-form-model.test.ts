import type { ServerInfo } from "@berth/client";
import { describe, expect, it } from "vitest";
import {
  availableRuntimes,
  type CreateFormValues,
  emptyForm,
  fieldOfPath,
  toSpec,
  validateCreateForm,
} from "../src/actions/create-form-model.ts";

const INFO: Pick<ServerInfo, "runtimes" | "images"> = {
  runtimes: [
    { name: "node", image: "berth/runtime-node:24", entry: "index.js", command: null, available: true },
    { name: "python", image: "berth/runtime-python:3", entry: "main.py", command: null, available: false },
  ],
  images: { allowed: ["berth/runtime-node:24", "acme/bot:1"], default: "berth/runtime-node:24" },
};

const form = (change: Partial<CreateFormValues> = {}): CreateFormValues => ({
  ...emptyForm(INFO),
  name: "weather-bot",
  ...change,
});

describe("the create form's checks", () => {
  it("offers only the runtimes whose image the engine has", () => {
    expect(availableRuntimes(INFO)).toEqual(["node"]);
    expect(validateCreateForm(form({ runtime: "python" }), INFO)).toEqual({
      runtime: "Choose one of the runtimes this berth offers.",
    });
  });

  it("accepts a plain form, with empty rows and limits left to berth", () => {
    expect(validateCreateForm(form(), INFO)).toEqual({});
  });

  it("refuses a name berth would refuse, saying what a name may hold", () => {
    expect(validateCreateForm(form({ name: "" }), INFO).name).toBe("Give the container a name.");
    expect(validateCreateForm(form({ name: "Bad Name!" }), INFO).name).toContain("lower-case letters");
    expect(validateCreateForm(form({ name: "-dash" }), INFO).name).toContain("starting with a letter");
    expect(validateCreateForm(form({ name: "a".repeat(64) }), INFO).name).toContain("at most 63");
  });

  it("refuses an image the server does not allow", () => {
    expect(validateCreateForm(form({ source: "image", image: "acme/bot:1" }), INFO)).toEqual({});
    expect(validateCreateForm(form({ source: "image", image: "evil/miner" }), INFO).image).toBeDefined();
  });

  it("names a bad, reserved or repeated variable, and a value without a name", () => {
    const env = (rows: { key: string; value: string }[]) => validateCreateForm(form({ env: rows }), INFO).env;
    expect(env([{ key: "1ABC", value: "x" }])).toContain("not a variable name");
    expect(env([{ key: "BERTH_ID", value: "x" }])).toContain("berth's own");
    expect(env([{ key: "", value: "x" }])).toBe("Row 1 has a value but no name.");
    expect(
      env([
        { key: "A", value: "1" },
        { key: "A", value: "2" },
      ]),
    ).toBe("“A” is there twice.");
    expect(env([{ key: "", value: "" }])).toBeUndefined();
  });

  it("refuses a secret shorter than berth takes, without quoting it", () => {
    const errors = validateCreateForm(form({ secretEnv: [{ key: "API_TOKEN", value: "abc" }] }), INFO);
    expect(errors.secretEnv).toBe("The secret “API_TOKEN” needs at least 4 characters.");
    expect(errors.secretEnv).not.toContain("abc");
  });

  it("takes memory as whole MB from 6, and CPUs from 0.01 to 1024", () => {
    expect(validateCreateForm(form({ memoryMb: "5" }), INFO).memoryMb).toBeDefined();
    expect(validateCreateForm(form({ memoryMb: "12.5" }), INFO).memoryMb).toBeDefined();
    expect(validateCreateForm(form({ memoryMb: "256" }), INFO).memoryMb).toBeUndefined();
    expect(validateCreateForm(form({ cpus: "0" }), INFO).cpus).toBeDefined();
    expect(validateCreateForm(form({ cpus: "two" }), INFO).cpus).toBeDefined();
    expect(validateCreateForm(form({ cpus: "0.5" }), INFO).cpus).toBeUndefined();
  });
});

describe("the spec a form makes", () => {
  it("holds what was filled in, and nothing left empty", () => {
    const spec = toSpec(
      form({
        env: [
          { key: " GREETING ", value: "hi" },
          { key: "", value: "" },
        ],
        secretEnv: [{ key: "API_TOKEN", value: "s3cret" }],
        memoryMb: "256",
        cpus: "0.5",
        restartPolicy: "on-failure",
      }),
      { files: { "index.js": "x" } },
    );
    expect(spec).toEqual({
      name: "weather-bot",
      runtime: "node",
      env: { GREETING: "hi" },
      secretEnv: { API_TOKEN: "s3cret" },
      resources: { memoryMb: 256, cpus: 0.5 },
      restartPolicy: "on-failure",
      code: { files: { "index.js": "x" } },
    });
    expect(toSpec(form({ source: "image", image: "acme/bot:1" }), undefined)).toEqual({
      name: "weather-bot",
      image: "acme/bot:1",
      restartPolicy: "no",
    });
  });

  it("maps the field berth names in a refusal to the form's field", () => {
    expect(fieldOfPath("name", "runtime")).toBe("name");
    expect(fieldOfPath("env.FOO", "runtime")).toBe("env");
    expect(fieldOfPath("resources.memoryMb", "runtime")).toBe("memoryMb");
    expect(fieldOfPath("code.files", "runtime")).toBe("code");
    expect(fieldOfPath("runtime", "image")).toBe("image");
    expect(fieldOfPath("labels.x", "runtime")).toBeUndefined();
  });
});
