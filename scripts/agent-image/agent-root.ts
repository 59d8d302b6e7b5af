import { execFileSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  cpSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import type { AgentClosure } from "./agent-closure.ts";

/** Where berth's files are in the agent's image: its sources, manifests and packages, as in a checkout. */
export const APP_DIR = "/opt/berth";
export const NODE_IN_IMAGE = "/usr/local/bin/node";

/** Files of a package that nothing loads at run time: type declarations, source maps, read-mes and change logs. */
const UNUSED_AT_RUN_TIME =
  /(\.d\.[cm]?ts|\.[cm]?js\.map|^(readme|changelog|history)(\.(md|markdown|txt))?)$/i;

/** The Node.js binary berth already has (`node_modules/node`) and the shared libraries it is linked against. */
export interface NodeRuntime {
  readonly binary: string;
  readonly libraries: readonly string[];
  /** What the image's hash takes for it (reading 120 MB to hash it would cost seconds): its version, size and libraries. */
  readonly identity: string;
}

export function nodeRuntime(root: string): NodeRuntime {
  const binary = realpathSync(join(root, "node_modules/node/bin/node"));
  const { version } = JSON.parse(readFileSync(join(root, "node_modules/node/package.json"), "utf8")) as {
    version: string;
  };
  const libraries = sharedLibraries(binary);
  const sizes = [binary, ...libraries].map((path) => `${path}:${statSync(path).size}`);
  return { binary, libraries, identity: `node ${version} ${sizes.join(" ")}` };
}

/** Puts the Node.js binary and its libraries (taken from this host, as `ldd` names them) into the image's root. */
export function addNodeRuntime(runtime: NodeRuntime, stage: string): void {
  put(runtime.binary, join(stage, NODE_IN_IMAGE), 0o755);
  for (const library of runtime.libraries) put(realpathSync(library), join(stage, library), 0o755);
}

/**
 * Lays out the agent image's root filesystem in `stage` (an empty
 * directory), all but Node.js itself (addNodeRuntime): a root user and name
 * resolution from /etc/hosts and DNS — no package manager, no shell, no other
 * program — and under /opt/berth the agent's closure, copied from berth's
 * directory with links followed.
 */
export function layOutAgentRoot(root: string, closure: AgentClosure, stage: string): void {
  mkdirSync(join(stage, "etc"), { recursive: true });
  writeFileSync(join(stage, "etc/passwd"), "root:x:0:0:root:/root:/usr/sbin/nologin\n");
  writeFileSync(join(stage, "etc/group"), "root:x:0:\n");
  writeFileSync(join(stage, "etc/nsswitch.conf"), "hosts: files dns\n");
  for (const dir of ["tmp", "root"]) mkdirSync(join(stage, dir), { recursive: true });
  chmodSync(join(stage, "tmp"), 0o1777);

  const app = join(stage, APP_DIR);
  for (const file of closure.files) {
    if (file === "package.json") continue;
    put(join(root, file), join(app, file), 0o644);
  }
  writeFileSync(join(app, "package.json"), `${JSON.stringify(agentManifest(root), null, 2)}\n`);
  for (const dir of closure.packages) {
    cpSync(join(root, dir), join(app, dir), {
      recursive: true,
      dereference: true,
      // A package's own node_modules holds packages of the closure's choosing, copied on their own (or not at all).
      filter: (source) => {
        const name = basename(source);
        return !(name === "node_modules" && source !== join(root, dir)) && !UNUSED_AT_RUN_TIME.test(name);
      },
    });
  }
}

/** berth's package.json, cut to what Node reads when it runs the agent: the module type, the imports map, the version. */
function agentManifest(root: string): object {
  const { name, version, type, imports } = JSON.parse(
    readFileSync(join(root, "package.json"), "utf8"),
  ) as Record<string, unknown>;
  return { name, version, private: true, type, imports };
}

/** The shared libraries a binary is linked against, as absolute paths (`ldd`'s `=> /path` and the loader). */
export function sharedLibraries(binary: string): string[] {
  const out = execFileSync("ldd", [binary], { encoding: "utf8" });
  const paths = new Set<string>();
  for (const line of out.split("\n")) {
    const linked = line.match(/=>\s+(\/\S+)/);
    const loader = line.match(/^\s*(\/\S+)\s+\(/);
    const path = linked?.[1] ?? loader?.[1];
    if (path) paths.add(path);
  }
  if (paths.size === 0) throw new Error(`ldd named no library for ${binary}:\n${out}`);
  return [...paths].sort();
}

/** Copies one file into the image's root, its directories made, with the mode given. */
export function put(from: string, to: string, mode: number): void {
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(from, to);
  chmodSync(to, mode);
}
