import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const srcDir = fileURLToPath(new URL("../src", import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith(".ts"))
    .map((e) => join(e.parentPath, e.name));
}

/** Every module specifier a file imports or re-exports from (static and dynamic). */
function specifiers(file: string): string[] {
  // Comments (doc examples) are not imports.
  const text = readFileSync(file, "utf8").replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*/g, "");
  return [...text.matchAll(/(?:from|import)\s*\(?\s*"([^"]+)"/g)].map((m) => m[1] as string);
}

describe("the client's sources", () => {
  it("keep the protocol a leaf: its files import only each other", () => {
    const protocolDir = join(srcDir, "protocol");
    for (const file of sourceFiles(protocolDir)) {
      for (const spec of specifiers(file)) {
        expect(spec, `${relative(srcDir, file)} imports ${spec}`).toMatch(/^\.\/[a-z-]+\.ts$/);
      }
    }
  });

  it("never reach outside the package, and depend on socket.io-client and Node's built-ins only", () => {
    const files = sourceFiles(srcDir);
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      for (const spec of specifiers(file)) {
        const where = `${relative(srcDir, file)} imports ${spec}`;
        if (spec.startsWith(".")) {
          expect(relative(srcDir, resolve(file, "..", spec)).startsWith(".."), where).toBe(false);
        } else {
          expect(spec, where).toMatch(/^(socket\.io-client|node:[a-z_/]+)$/);
        }
      }
    }
  });

  it("keep the root entry browser-safe: nothing it reaches imports a Node.js built-in", () => {
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const spec of specifiers(file)) {
        expect(spec.startsWith("node:"), `${relative(srcDir, file)} imports ${spec}`).toBe(false);
        if (spec.startsWith(".")) visit(resolve(file, "..", spec));
      }
    };
    visit(join(srcDir, "index.ts"));
    expect(seen.size).toBeGreaterThan(10);
    expect([...seen].some((f) => f.includes(`${join("src", "code")}`))).toBe(false);
  });
});
