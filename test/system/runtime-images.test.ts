import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
// @ts-expect-error set-up's plain JavaScript has no declarations
import { loadRecipes, recipeLabels } from "../../scripts/images/recipe.mjs";

const run = promisify(execFile);

interface Recipe {
  name: string;
  dir: string;
  image: string;
  runtime: "node" | "python";
  command: string[];
  entry: string;
  env: Record<string, string>;
  sdk: { language: string; from: string; to: string };
  keep: Record<string, string>;
}

const recipes = loadRecipes() as Recipe[];

/** Runs a one-off program in `image` with berth's hardening and an unprivileged uid of its own. */
async function inImage(image: string, command: string[]): Promise<string> {
  const { stdout } = await run(
    "docker",
    [
      "run",
      "--rm",
      "--label",
      "berth.test=runtime-images",
      "--init",
      "--read-only",
      "--tmpfs",
      "/tmp:rw,nosuid,nodev,size=16m,mode=1777",
      "--cap-drop",
      "ALL",
      "--security-opt",
      "no-new-privileges",
      "--network",
      "none",
      "--user",
      "100777:100777",
      "--entrypoint",
      command[0] as string,
      image,
      ...command.slice(1),
    ],
    { timeout: 60_000 },
  );
  return stdout;
}

/** A short program, in the image's own language, that prints JSON facts about the image from inside. */
function probe(recipe: Recipe): string[] {
  if (recipe.runtime === "python") {
    return [
      "python3",
      "-c",
      `
import json, os, shutil, stat, subprocess
programs = sorted(os.path.join(d, n) for d in ("/usr/bin", "/usr/sbin", "/usr/local/bin") if os.path.isdir(d) for n in os.listdir(d))
special = []
for top in ("/usr", "/etc", "/var", "/opt", "/root", "/home", "/srv"):
    for dirpath, dirs, files in os.walk(top):
        for n in dirs + files:
            st = os.lstat(os.path.join(dirpath, n))
            if not stat.S_ISLNK(st.st_mode) and st.st_mode & 0o6000: special.append(os.path.join(dirpath, n))
try:
    subprocess.run("true", shell=True)
    shell = "ran"
except FileNotFoundError:
    shell = "FileNotFoundError"
import berth_workload
print(json.dumps({"programs": programs, "special": special, "shell": shell,
  "found": [t for t in ("sh", "bash", "dash", "apt", "apt-get", "dpkg", "perl", "gcc", "cc", "su", "node") if shutil.which(t)],
  "sdk": berth_workload.PROTOCOL_VERSION, "app": os.readlink("/app")}))
`,
    ];
  }
  return [
    "node",
    "-e",
    `
const fs = require("node:fs"), path = require("node:path"), cp = require("node:child_process");
const programs = ["/usr/bin", "/usr/sbin", "/usr/local/bin"].filter((d) => fs.existsSync(d)).flatMap((d) => fs.readdirSync(d).map((n) => path.join(d, n))).sort();
const special = [];
const list = (d) => { try { return fs.readdirSync(d, { withFileTypes: true }); } catch { return []; } };
const walk = (d) => { for (const e of list(d)) { const p = path.join(d, e.name); const st = fs.lstatSync(p); if (st.isSymbolicLink()) continue; if (st.mode & 0o6000) special.push(p); if (st.isDirectory()) walk(p); } };
for (const top of ["/usr", "/etc", "/var", "/opt", "/root", "/home", "/srv"]) if (fs.existsSync(top)) walk(top);
let shell; try { cp.execSync("true", { stdio: "ignore" }); shell = "ran"; } catch (e) { shell = e.code; }
const which = (t) => (process.env.PATH || "").split(":").some((d) => fs.existsSync(path.join(d, t)));
console.log(JSON.stringify({ programs, special, shell,
  found: ["sh", "bash", "dash", "apt", "apt-get", "dpkg", "perl", "gcc", "cc", "su", "python3"].filter(which),
  sdk: require("/node_modules/@berth/workload").PROTOCOL_VERSION, app: fs.readlinkSync("/app") }));
`,
  ];
}

describe.each(recipes)("the runtime image $image", (recipe) => {
  it("is built from its current recipe, with the labels berth reads", async () => {
    const { stdout } = await run("docker", [
      "image",
      "inspect",
      recipe.image,
      "--format",
      "{{json .Config}}",
    ]);
    const config = JSON.parse(stdout) as {
      Labels: Record<string, string>;
      Cmd: string[];
      WorkingDir: string;
      Env: string[];
    };
    expect(config.Labels).toEqual(recipeLabels(recipe));
    expect(config.Labels["berth.runtime"]).toBe(recipe.runtime);
    expect(JSON.parse(config.Labels["berth.command"] as string)).toEqual(config.Cmd);
    expect(config.WorkingDir).toBe("/run/berth-code/current");
    expect(config.Env).toEqual(Object.entries(recipe.env).map(([k, v]) => `${k}=${v}`));
  });

  it("has no shell, package manager, Perl, compiler or setuid file, and keeps only the programs its recipe names", async () => {
    const facts = JSON.parse(await inImage(recipe.image, probe(recipe))) as {
      programs: string[];
      special: string[];
      shell: string;
      found: string[];
      sdk: number;
      app: string;
    };
    const ours = recipe.runtime === "node" ? ["/usr/local/bin/node"] : [];
    // docker-init is not the image's: the engine mounts its init there (berth runs every container with it).
    const programs = facts.programs.filter((p) => p !== "/usr/sbin/docker-init");
    expect(programs).toEqual([...Object.keys(recipe.keep), ...ours].sort());
    expect(facts.found).toEqual([]);
    expect(facts.special).toEqual([]);
    // Documented in docs/images.md: with no /bin/sh, asking for a shell fails.
    expect(facts.shell).toBe(recipe.runtime === "python" ? "FileNotFoundError" : "ENOENT");
    // The SDK is installed where the runtime finds it, readable by any uid.
    expect(facts.sdk).toBe(Number(recipeLabels(recipe)["berth.protocol"]));
    expect(facts.app).toBe("/run/berth-code/current");
  });
});

describe.each(recipes)("the Dockerfile beside the recipe of $image", (recipe) => {
  const dockerfile = readFileSync(join(recipe.dir, "Dockerfile"), "utf8");
  const instructions = (name: string) =>
    [...dockerfile.matchAll(new RegExp(`^${name} (.+)$`, "gm"))].map((m) => m[1] as string);

  it("installs the same SDK, at the same version and protocol, as the offline recipe", () => {
    const labels = Object.fromEntries(
      instructions("LABEL").map((l) => {
        const [, key, value] = l.match(/^(\S+?)=(.*)$/) as string[];
        return [key, JSON.parse(value as string) as string];
      }),
    );
    const { "berth.recipe": _hash, ...fromRecipe } = recipeLabels(recipe);
    expect(labels).toEqual(fromRecipe);
    expect(instructions("COPY").every((c) => c.startsWith(recipe.sdk.from))).toBe(true);
    expect(instructions("COPY").length).toBeGreaterThan(0);
  });

  it("keeps the same programs as the recipe (by name: the base images put the runtime in /usr/local/bin)", () => {
    const run = instructions("RUN").join("\n");
    const kept = new Set(
      [...run.matchAll(/'(\/usr\/[a-z/]+\/[\w.]+)'/g)]
        .map((m) => m[1] as string)
        .filter((p) => /bin\//.test(p)),
    );
    const names = (paths: Iterable<string>) => [...new Set([...paths].map((p) => p.split("/").pop()))].sort();
    const ours = recipe.runtime === "node" ? ["/usr/local/bin/node"] : [];
    expect(names(kept)).toEqual(names([...Object.keys(recipe.keep), ...ours]));
  });

  it("runs the same command in the same place with the same environment", () => {
    expect(instructions("ENTRYPOINT")).toEqual(["[]"]);
    expect(JSON.parse(instructions("CMD")[0] as string)).toEqual(recipe.command);
    expect(instructions("WORKDIR")).toEqual(["/run/berth-code/current"]);
    expect(instructions("ENV")).toEqual(Object.entries(recipe.env).map(([k, v]) => `${k}=${v}`));
    expect(instructions("FROM")).toEqual([recipe.runtime === "python" ? "python:3.11-slim" : "node:24-slim"]);
  });
});
