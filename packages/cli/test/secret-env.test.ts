import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseSecretEnv, parseSecretEnvFile } from "../src/parse/secret-env.ts";
import { usageErrorOf } from "./usage-error-of.ts";

const SECRET = "hunter2-s3cr3t";

describe("parseSecretEnv (--secret-env)", () => {
  it("takes a bare KEY's value from the environment, so that it never is on the command line", () => {
    let secrets = parseSecretEnv("API_KEY", {}, { API_KEY: SECRET });
    secrets = parseSecretEnv("EMPTY", secrets, { EMPTY: "" });
    expect(secrets).toEqual({ API_KEY: SECRET, EMPTY: "" });
  });

  it("still takes KEY=VALUE, keeping '=' in the value", () => {
    expect(parseSecretEnv("A=x=y", {}, {})).toEqual({ A: "x=y" });
  });

  it("refuses a KEY that is not set, naming the key and how to set it", () => {
    const err = usageErrorOf(() => parseSecretEnv("API_KEY", {}, {}));
    expect(err.message).toMatch(/--secret-env: API_KEY is not set in this environment; export it/);
  });

  it("never repeats a secret given without its KEY= (a token in a variable's shape, or with other characters)", () => {
    for (const text of ["ghp_Zq7hunter2s3cr3tTokenValue01", "sk-live/hunter2+s3cr3t==", "hunter2 s3cr3t"]) {
      const err = usageErrorOf(() => parseSecretEnv(text, {}, {}));
      expect(err.message).not.toContain("hunter2");
    }
  });

  it("refuses an empty key without echoing what it was given", () => {
    for (const text of [`=${SECRET}`, ""]) {
      const err = usageErrorOf(() => parseSecretEnv(text, {}, {}));
      expect(err.message).toContain("--secret-env takes KEY");
      expect(err.message).not.toContain("hunter2");
    }
  });
});

describe("parseSecretEnvFile (--secret-env-file)", () => {
  const dir = mkdtempSync(join(tmpdir(), "berth-secret-env-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text, { mode: 0o600 });
    return path;
  };

  it("reads KEY=VALUE lines as docker's --env-file does: comments and blank lines skipped, values as is", () => {
    const path = file(
      "ok.env",
      `# the worker's secrets\n\nAPI_KEY=${SECRET}\r\n  DB_URL=postgres://u:p@db/x?a=b \nFROM_ENV\nEMPTY=\n`,
    );
    expect(parseSecretEnvFile(path, { KEPT: "1" }, { FROM_ENV: "from the environment" })).toEqual({
      KEPT: "1",
      API_KEY: SECRET,
      DB_URL: "postgres://u:p@db/x?a=b ",
      FROM_ENV: "from the environment",
      EMPTY: "",
    });
  });

  it("never repeats a secret line that has no '=' (a PEM key's second line)", () => {
    for (const second of ["MIIEvQIBADANBgkqhunter2AgEAAoIBAQC7", "MIIEvQIBADANBgkqhunter2AgEA/oIBAQ=="]) {
      const path = file("pem.env", `KEY=-----BEGIN KEY-----\n${second}\n`);
      const err = usageErrorOf(() => parseSecretEnvFile(path, {}, {}));
      expect(err.message).toContain("line 2");
      expect(err.message).not.toContain("hunter2");
    }
  });

  it("names the file and line of a bad line, never the line itself", () => {
    const path = file("bad.env", `OK=1\n=${SECRET}\n`);
    const err = usageErrorOf(() => parseSecretEnvFile(path, {}, {}));
    expect(err.message).toContain(`--secret-env-file ${path}, line 2`);
    expect(err.message).not.toContain("hunter2");
    const unset = usageErrorOf(() => parseSecretEnvFile(file("unset.env", "NOT_SET\n"), {}, {}));
    expect(unset.message).toContain("line 1: NOT_SET is not set");
  });

  it("refuses a file it cannot read, saying why", () => {
    expect(usageErrorOf(() => parseSecretEnvFile(join(dir, "missing.env"))).message).toMatch(
      /cannot read --secret-env-file .*missing\.env \(ENOENT\)/,
    );
  });
});
