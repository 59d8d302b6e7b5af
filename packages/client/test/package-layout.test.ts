import { execFileSync, spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const pkgDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const repo = resolve(pkgDir, "../..");
const NODES = { "Node 20": "/usr/bin/node", "Node 24": join(repo, "node_modules", "node", "bin", "node") };
const hasRoot = existsSync(join(pkgDir, "src", "index.ts"));

// The protocol module still re-exports the server's files; until it is the
// self-contained leaf, the package cannot be compiled on its own.
const protocolShim = readFileSync(join(pkgDir, "src", "protocol", "index.ts"), "utf8").includes(
  "../../../../src/",
);

/** The package as a consumer installs it: lib/ and package.json under node_modules, socket.io-client beside it. */
const title = protocolShim
  ? "the built @berth/client package (SKIPPED: src/protocol/index.ts still re-exports the server's files, so the package cannot compile on its own)"
  : "the built @berth/client package";

describe.skipIf(protocolShim)(title, () => {
  let consumer: string;
  const run = (node: string, args: string[]) =>
    execFileSync(node, args, { cwd: consumer, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

  beforeAll(() => {
    execFileSync(NODES["Node 20"], [join(repo, "scripts", "build-packages.mjs")], {
      cwd: repo,
      stdio: "pipe",
    });
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

  it.skipIf(!hasRoot).each(Object.entries(NODES))(
    "loads @berth/client with require() and import on %s",
    (_name, node) => {
      run(node, ["-e", `require("@berth/client")`]);
      run(node, ["--input-type=module", "-e", `await import("@berth/client")`]);
    },
  );

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
    if (hasRoot)
      writeFileSync(join(consumer, "root.ts"), `import * as berth from "@berth/client";\nvoid berth;\n`);
    run(NODES["Node 24"], [join(repo, "node_modules", "typescript", "bin", "tsc"), "-p", "."]);
  });

  it("is not rebuilt when its sources have not changed (set-up runs the build before every npm test)", () => {
    const again = spawnSync(NODES["Node 20"], [join(repo, "scripts", "build-packages.mjs")], {
      cwd: repo,
      encoding: "utf8",
    });
    expect(again.stderr).toContain("up to date");
  });

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

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listFiles(join(dir, e.name)) : [join(dir, e.name)],
  );
}
