import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { findBerthCheckout } from "../src/berth-checkout.ts";
import { CliError, EXIT } from "../src/cli-error.ts";
import { configFilePath, readSavedLogin, writeSavedLogin } from "../src/config-file.ts";
import { DEFAULT_URL, resolveTarget } from "../src/connection.ts";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "berth-cli-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("the saved login", () => {
  it("lives under XDG_CONFIG_HOME, else ~/.config", () => {
    expect(configFilePath({ XDG_CONFIG_HOME: "/x" })).toBe("/x/berth/config.json");
    expect(configFilePath({ HOME: "/home/u" })).toMatch(/\.config\/berth\/config\.json$/);
  });

  it("is written readable by its owner only (file 0600, directory 0700), even over a looser directory", async () => {
    const path = join(dir, "berth", "config.json");
    await mkdir(join(dir, "berth"), { mode: 0o755 });
    await writeSavedLogin({ url: "http://h:1", token: "t-0123456789" }, path);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, "berth"))).mode & 0o777).toBe(0o700);
    expect(await readSavedLogin(path)).toEqual({ url: "http://h:1", token: "t-0123456789" });
  });

  it("is absent without a file, and a broken file is an error that names it and the fix", async () => {
    expect(await readSavedLogin(join(dir, "none.json"))).toBeUndefined();
    const path = join(dir, "config.json");
    await writeFile(path, "{not json");
    const err = await readSavedLogin(path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).message).toContain(path);
    expect((err as CliError).message).toContain("berth login");
  });
});

describe("resolveTarget", () => {
  const saved = async () => {
    await writeSavedLogin({ url: "http://saved:1", token: "saved-token" }, join(dir, "berth", "config.json"));
    return { XDG_CONFIG_HOME: dir };
  };

  it("takes flags over the environment over the saved login", async () => {
    const env = { ...(await saved()), BERTH_URL: "http://env:2", BERTH_TOKEN: "env-token" };
    expect(await resolveTarget({ url: "http://flag:3", token: "flag-token" }, env)).toEqual({
      url: "http://flag:3",
      token: "flag-token",
    });
    expect(await resolveTarget({}, env)).toEqual({ url: "http://env:2", token: "env-token" });
    expect(await resolveTarget({}, await saved())).toEqual({ url: "http://saved:1", token: "saved-token" });
  });

  it("uses berth's default address when nothing names one", async () => {
    expect(await resolveTarget({ token: "t" }, { XDG_CONFIG_HOME: dir })).toEqual({
      url: DEFAULT_URL,
      token: "t",
    });
    expect(DEFAULT_URL).toBe("http://127.0.0.1:7300");
  });

  it("without a token anywhere, is bad usage that names the three ways to give one", async () => {
    const err = await resolveTarget({}, { XDG_CONFIG_HOME: dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).exitCode).toBe(EXIT.USAGE);
    expect((err as CliError).message).toMatch(/--token.*BERTH_TOKEN.*berth login/);
  });
});

describe("findBerthCheckout", () => {
  it("finds the berth checkout above the CLI, with its Node.js and flags", () => {
    const found = findBerthCheckout(new URL("../src/main.ts", import.meta.url).pathname);
    expect(found).toBeDefined();
    expect(found!.main).toMatch(/src\/main\.ts$/);
    expect(found!.nodeFlags).toContain("--max-semi-space-size=8");
    expect(found!.node).toMatch(/node_modules\/(\.bin\/node|node\/bin\/node)$/);
  });

  it("finds nothing for a CLI installed without a checkout", async () => {
    await writeFile(join(dir, "package.json"), JSON.stringify({ name: "not-berth" }));
    await mkdir(join(dir, "lib"));
    await writeFile(join(dir, "lib", "main.js"), "");
    expect(findBerthCheckout(join(dir, "lib", "main.js"))).toBeUndefined();
  });

  it("needs both the name berth and src/main.ts", async () => {
    await writeFile(join(dir, "package.json"), JSON.stringify({ name: "berth" }));
    expect(findBerthCheckout(join(dir, "x.js"))).toBeUndefined();
    await mkdir(join(dir, "src"));
    await writeFile(join(dir, "src", "main.ts"), "");
    expect(findBerthCheckout(join(dir, "x.js"))?.root).toBe(dir);
    expect(await readFile(join(dir, "package.json"), "utf8")).toContain("berth");
  });
});
