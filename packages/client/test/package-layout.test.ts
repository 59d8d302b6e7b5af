import { execFile, execFileSync } from "node:child_process";
import {
  appendFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const pkgDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const repo = resolve(pkgDir, "../..");
const NODES = { "Node 20": "/usr/bin/node", "Node 24": join(repo, "node_modules", "node", "bin", "node") };

/**
 * The package as a consumer installs it: lib/ and package.json under
 * node_modules, socket.io-client beside it. The test run's global set-up
 * (test/helpers/global-setup.ts) built it.
 */
describe("the built @berth/client package", () => {
  let consumer: string;
  const run = (node: string, args: string[]) =>
    execFileSync(node, args, { cwd: consumer, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

  beforeAll(() => {
    consumer = mkdtempSync(join(tmpdir(), "berth-consumer-"));
    const installed = join(consumer, "node_modules", "@berth", "client");
    mkdirSync(installed, { recursive: true });
    const manifest = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8")) as { files: string[] };
    for (const f of [...manifest.files, "package.json"])
      cpSync(join(pkgDir, f), join(installed, f), { recursive: true });
    symlinkSync(
      join(repo, "node_modules", "socket.io-client"),
      join(consumer, "node_modules", "socket.io-client"),
    );
    mkdirSync(join(consumer, "code"));
    writeFileSync(join(consumer, "code", "index.js"), "console.log(1)\n");
    writeFileSync(join(consumer, "package.json"), '{ "type": "module" }\n');
  }, 120_000);
  afterAll(() => {
    if (consumer) rmSync(consumer, { recursive: true, force: true });
  });

  it.each(Object.entries(NODES))(
    "loads @berth/client/code with require() and import on %s",
    (_name, node) => {
      const script = `const code = await m.codeFromDirectory("code"); console.log(JSON.stringify(code));`;
      const cjs = run(node, ["-e", `(async () => { const m = require("@berth/client/code"); ${script} })()`]);
      const esm = run(node, [
        "--input-type=module",
        "-e",
        `const m = await import("@berth/client/code"); ${script}`,
      ]);
      expect(JSON.parse(cjs)).toEqual({ files: { "index.js": "console.log(1)\n" } });
      expect(JSON.parse(esm)).toEqual(JSON.parse(cjs));
    },
  );

  it.each(Object.entries(NODES))("loads @berth/client with require() and import on %s", (_name, node) => {
    run(node, ["-e", `require("@berth/client")`]);
    run(node, ["--input-type=module", "-e", `await import("@berth/client")`]);
  });

  it("type-checks from an ESM (.ts) and a CommonJS (.cts) consumer, library declarations included", () => {
    writeFileSync(
      join(consumer, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          module: "nodenext",
          moduleResolution: "nodenext",
          target: "es2022",
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          types: ["node"],
          typeRoots: [join(repo, "node_modules", "@types")],
        },
        include: ["*.ts", "*.cts"],
      }),
    );
    const use = `const code: Promise<DirectoryCode> = codeFromDirectory("code", { ignore: ["*.log"], limits: { maxCodeFiles: 10 } });
void code;`;
    writeFileSync(
      join(consumer, "esm.ts"),
      `import { codeFromDirectory, type DirectoryCode } from "@berth/client/code";\n${use}\n`,
    );
    writeFileSync(
      join(consumer, "cjs.cts"),
      `import { codeFromDirectory, type DirectoryCode } from "@berth/client/code";\n${use}\n`,
    );
    writeFileSync(
      join(consumer, "root.ts"),
      [
        `import { connect, isBerthError, type ContainerInfo, type BerthClient } from "@berth/client";`,
        `export async function names(url: string): Promise<string[]> {`,
        `  const berth: BerthClient = await connect(url, { token: "t" });`,
        `  const out: string[] = [];`,
        `  try { for await (const c of berth.containers.list()) out.push((c satisfies ContainerInfo).name); }`,
        `  catch (err) { if (isBerthError(err, "UNAUTHORIZED")) return []; throw err; }`,
        `  return out;`,
        `}`,
      ].join("\n"),
    );
    run(NODES["Node 24"], [join(repo, "node_modules", "typescript", "bin", "tsc"), "-p", "."]);
  });

  it("is built again when, and only when, something it is built from changed; the CLI when the client did", async () => {
    const copy = checkoutCopy();
    try {
      const touch = (file: string) => appendFileSync(join(copy, file), "\n// touched by the test\n");
      expect(await build(copy)).toBe("built @berth/client, @berth/cli");
      expect(await build(copy)).toBe("up to date");
      touch("packages/client/src/index.ts");
      expect(await build(copy)).toBe("built @berth/client, @berth/cli");
      touch("packages/cli/src/main.ts");
      expect(await build(copy)).toBe("built @berth/cli");
      touch("packages/client/src/code/index.ts");
      // Two builds at once (two test runs, say) do not write into each other's output.
      const both = await Promise.all([build(copy), build(copy)]);
      expect(both).toContain("built @berth/client, @berth/cli");
      expect(await build(copy)).toBe("up to date");
      const main = join(copy, "packages", "cli", "lib", "main.js");
      expect(execFileSync(NODES["Node 20"], [main, "--version"], { encoding: "utf8" }).trim()).toBe("0.1.0");
      expect(readdirSync(join(copy, "packages", "client")).filter((f) => f.startsWith(".build"))).toEqual([]);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  }, 120_000);

  it("references nothing outside the package, and depends on socket.io-client only", () => {
    const installed = join(consumer, "node_modules", "@berth", "client");
    const manifest = JSON.parse(readFileSync(join(installed, "package.json"), "utf8")) as {
      dependencies: Record<string, string>;
    };
    expect(Object.keys(manifest.dependencies)).toEqual(["socket.io-client"]);
    const lib = join(installed, "lib");
    const problems: string[] = [];
    for (const file of listFiles(lib).filter((f) => /\.(js|d\.ts)$/.test(f))) {
      const text = readFileSync(file, "utf8");
      const specifiers = [
        ...text.matchAll(/(?:from\s*|import\s*\(\s*|require\s*\(\s*)["']([^"']+)["']/g),
      ].map((m) => m[1]!);
      for (const spec of specifiers) {
        if (spec.startsWith(".")) {
          const target = resolve(dirname(file), spec);
          if (relative(lib, target).startsWith("..")) problems.push(`${relative(lib, file)}: ${spec}`);
          if (spec.endsWith(".ts")) problems.push(`${relative(lib, file)}: ${spec} (a .ts specifier)`);
        } else if (
          !spec.startsWith("node:") &&
          spec !== "socket.io-client" &&
          !spec.startsWith("@berth/client")
        ) {
          problems.push(`${relative(lib, file)}: ${spec}`);
        }
      }
      if (text.includes("/src/")) problems.push(`${relative(lib, file)}: mentions /src/`);
    }
    expect(problems).toEqual([]);
  });
});

/** Runs build-packages.mjs in `checkout` on Node 20, as set-up does; answers its summary ("up to date", "built …"). */
async function build(checkout: string): Promise<string> {
  const { stderr } = await promisify(execFile)(
    NODES["Node 20"],
    [join(checkout, "scripts", "build-packages.mjs")],
    { cwd: checkout, encoding: "utf8" },
  );
  return stderr.match(/^berth build: (up to date|built .*)$/m)?.[1] ?? stderr;
}

/**
 * What building the packages reads, copied into a folder of its own, so that
 * the test can change sources without touching the repository's: the build
 * scripts, the two packages' sources and manifests, and a node_modules whose
 * entries link to the repository's, but whose @berth/* are the copies and
 * whose .bin is its own.
 */
function checkoutCopy(): string {
  const copy = mkdtempSync(join(tmpdir(), "berth-build-"));
  for (const f of ["scripts/build-package.mjs", "scripts/build-packages.mjs"])
    cpSync(join(repo, f), join(copy, f));
  for (const pkg of ["client", "cli"]) {
    for (const f of ["src", "package.json"])
      cpSync(join(repo, "packages", pkg, f), join(copy, "packages", pkg, f), { recursive: true });
  }
  const modules = join(copy, "node_modules");
  mkdirSync(join(modules, ".bin"), { recursive: true });
  mkdirSync(join(modules, "@berth"));
  for (const pkg of ["client", "cli"]) symlinkSync(join(copy, "packages", pkg), join(modules, "@berth", pkg));
  for (const entry of readdirSync(join(repo, "node_modules"))) {
    if (entry === ".bin" || entry === "@berth") continue;
    symlinkSync(realpathSync(join(repo, "node_modules", entry)), join(modules, entry));
  }
  return copy;
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listFiles(join(dir, e.name)) : [join(dir, e.name)],
  );
}
