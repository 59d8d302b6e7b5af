import { existsSync, readFileSync, realpathSync } from "node:fs";
import { dirname, join } from "node:path";

/** What `berth serve` needs of a berth checkout to run it as `npm start` does. */
export interface BerthCheckout {
  root: string;
  /** The project's own Node.js 24 (from its `node` dependency). */
  node: string;
  /** `config.nodeFlags` of its package.json, split. */
  nodeFlags: string[];
  setupScript: string;
  main: string;
}

/**
 * The berth checkout this CLI belongs to: the nearest folder above `from`
 * (the CLI's own real path, so a symlinked `node_modules/.bin/berth` leads
 * back into the checkout) whose package.json is named `berth` and that has
 * `src/main.ts`. Undefined for a CLI installed on its own (`npm install -g`).
 *
 * @example findBerthCheckout(fileURLToPath(import.meta.url))?.root
 */
export function findBerthCheckout(from: string): BerthCheckout | undefined {
  let dir = dirname(realpathOrSelf(from));
  for (;;) {
    const found = checkoutAt(dir);
    if (found) return found;
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

function checkoutAt(root: string): BerthCheckout | undefined {
  let pkg: { name?: unknown; config?: { nodeFlags?: unknown } };
  try {
    pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  } catch {
    return undefined;
  }
  const main = join(root, "src", "main.ts");
  if (pkg.name !== "berth" || !existsSync(main)) return undefined;
  const nodeFlags =
    typeof pkg.config?.nodeFlags === "string" ? pkg.config.nodeFlags.split(/\s+/).filter(Boolean) : [];
  // npm links the `node` package's binary into .bin; the package's own copy is the fallback.
  const candidates = [
    join(root, "node_modules", ".bin", "node"),
    join(root, "node_modules", "node", "bin", "node"),
  ];
  const node = candidates.find((p) => existsSync(p)) ?? candidates[0]!;
  return { root, node, nodeFlags, setupScript: join(root, "scripts", "setup.mjs"), main };
}

function realpathOrSelf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}
