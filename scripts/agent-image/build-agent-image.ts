// berth's node agent as an image, built offline (no registry, no network): the
// Node.js binary berth already has, the libraries it links, the agent's own
// files and the npm packages it loads, and the host's iptables (its binary,
// modules and libraries, for the egress filter) — nothing else (agent-closure.ts,
// agent-root.ts, iptables-runtime.ts) — imported into the engine as `berth/agent:<version>`.
//   npm run build:agent-image             build it, unless the image there was built from the same files
//   npm run build:agent-image -- --force  build it again anyway
// The engine is DOCKER_HOST's unix socket, else /var/run/docker.sock. Not part of
// set-up: only nodes that run the agent as a Swarm service need it (docs/cluster.md).
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { createWriteStream, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { pipeline } from "node:stream/promises";
import Dockerode from "dockerode";
import { AGENT_ENTRY, agentClosure } from "./agent-closure.ts";
import { APP_DIR, addNodeRuntime, layOutAgentRoot, NODE_IN_IMAGE, nodeRuntime } from "./agent-root.ts";
import {
  addIptablesRuntime,
  IPTABLES_IN_IMAGE,
  type IptablesBackend,
  iptablesRuntime,
} from "./iptables-runtime.ts";

const ROOT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
const MANIFEST = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  version: string;
  config: { nodeFlags: string };
};

/** The agent's image for this version of berth. */
export const AGENT_IMAGE = `berth/agent:${MANIFEST.version}`;
/** The label holding a hash of every file in the image: the same hash, the same image (no rebuild). */
export const BUILD_LABEL = "berth.agent-build";
/**
 * The label saying which iptables back end the image carries (`nft`, `legacy`), or `none`: the
 * agents' service needs the capabilities and the lock of that back end (deploy-agent-service.ts).
 */
export const IPTABLES_LABEL = "berth.iptables";

export interface AgentImageBuild {
  readonly image: string;
  /** False when the engine already had an image built from the same files. */
  readonly built: boolean;
  readonly hash: string;
  /** The iptables back end the image carries, as the building host's `iptables` resolves; none without one. */
  readonly iptables: IptablesBackend | "none";
  /** The image's size, as the engine tells it. */
  readonly bytes: number;
  readonly ms: number;
}

/** Builds the agent's image into `docker`'s engine, unless it already holds one made of the same files. */
export async function buildAgentImage(
  options: { docker?: Dockerode; force?: boolean } = {},
): Promise<AgentImageBuild> {
  const started = performance.now();
  const docker = options.docker ?? new Dockerode({ socketPath: engineSocket() });
  const stage = mkdtempSync(join(tmpdir(), "berth-agent-image-"));
  try {
    const root = join(stage, "root");
    layOutAgentRoot(ROOT, agentClosure(ROOT), root);
    const runtime = nodeRuntime(ROOT);
    const iptables = iptablesRuntime();
    const backend = iptables?.backend ?? "none";
    const config = imageConfig(backend);
    // The same files, the same Node.js and iptables, and the same configuration: the same image.
    const hash = treeHash(
      root,
      `${runtime.identity}\0${iptables?.identity ?? "no iptables"}\0${JSON.stringify(config)}`,
    );
    const have = await docker
      .getImage(AGENT_IMAGE)
      .inspect()
      .catch(() => undefined);
    if (have?.Config?.Labels?.[BUILD_LABEL] === hash && !options.force)
      return {
        image: AGENT_IMAGE,
        built: false,
        hash,
        iptables: backend,
        bytes: have.Size,
        ms: performance.now() - started,
      };
    addNodeRuntime(runtime, root);
    if (iptables) addIptablesRuntime(iptables, root);
    const tar = join(stage, "root.tar");
    await writeTar(root, tar);
    const [repo, tag] = AGENT_IMAGE.split(":") as [string, string];
    const progress = (await docker.importImage(tar, {
      repo,
      tag,
      changes: [...config, `LABEL ${BUILD_LABEL}=${JSON.stringify(hash)}`],
    })) as NodeJS.ReadableStream;
    let text = "";
    for await (const chunk of progress) text += chunk.toString();
    if (/"error"/.test(text))
      throw new Error(`the engine refused to import ${AGENT_IMAGE}: ${text.slice(0, 300)}`);
    const { Id, Size } = await docker.getImage(AGENT_IMAGE).inspect();
    // The build it replaces would stay behind untagged, 150 MB a time; one a container still uses stays.
    if (have && have.Id !== Id)
      await docker
        .getImage(have.Id)
        .remove()
        .catch(() => {});
    return {
      image: AGENT_IMAGE,
      built: true,
      hash,
      iptables: backend,
      bytes: Size,
      ms: performance.now() - started,
    };
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

/**
 * The image's configuration, as `docker import --change` takes it: the agent
 * as its entrypoint (with the Node.js flags `npm run agent` gives it), run as
 * root — it holds the node's engine socket and hands each workload's socket
 * to the workload's own uid — from the read-only files under /opt/berth.
 * `iptables` is on its PATH, where the agent's egress filter finds it.
 */
function imageConfig(iptables: IptablesBackend | "none"): string[] {
  const flags = MANIFEST.config.nodeFlags.split(/\s+/).filter(Boolean);
  return [
    `ENTRYPOINT ${JSON.stringify([NODE_IN_IMAGE, ...flags, `${APP_DIR}/${AGENT_ENTRY}`])}`,
    `WORKDIR ${APP_DIR}`,
    `ENV PATH=/usr/local/bin:${dirname(IPTABLES_IN_IMAGE)}`,
    "ENV NODE_ENV=production",
    `LABEL berth.version=${JSON.stringify(MANIFEST.version)}`,
    `LABEL ${IPTABLES_LABEL}=${iptables}`,
  ];
}

/** A hash of every path, mode and content under `dir`, in a fixed order, after `preamble`. */
function treeHash(dir: string, preamble: string): string {
  const hash = createHash("sha256");
  hash.update(`${preamble}\0`);
  const walk = (path: string, name: string) => {
    const st = statSync(path);
    hash.update(`${name}\0${st.mode.toString(8)}\0`);
    if (st.isDirectory()) {
      for (const entry of readdirSync(path).sort()) walk(join(path, entry), `${name}/${entry}`);
    } else {
      hash.update(readFileSync(path));
    }
  };
  walk(dir, "");
  return hash.digest("hex").slice(0, 16);
}

/** The root as a tar owned by root, entries in name order (so the same files make the same layer). */
async function writeTar(root: string, file: string): Promise<void> {
  const tar = spawn(
    "tar",
    ["--sort=name", "--numeric-owner", "--owner=0", "--group=0", "--mtime=@0", "-C", root, "-c", "."],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const exited = new Promise<void>((resolve, reject) => {
    tar.on("error", reject);
    tar.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`tar exited with ${code}`))));
  });
  await Promise.all([pipeline(tar.stdout, createWriteStream(file)), exited]);
}

function engineSocket(): string {
  const host = process.env.DOCKER_HOST;
  return host?.startsWith("unix://") ? host.slice("unix://".length) : "/var/run/docker.sock";
}

if (import.meta.main) {
  const build = await buildAgentImage({ force: process.argv.includes("--force") });
  const size = `${(build.bytes / 2 ** 20).toFixed(0)} MB`;
  process.stdout.write(
    build.built
      ? `built ${build.image} (${size}, build ${build.hash}) in ${(build.ms / 1000).toFixed(1)} s\n`
      : `${build.image} is up to date (build ${build.hash})\n`,
  );
  if (build.iptables === "none")
    process.stdout.write(
      "this host has no iptables: the image carries none, and its agents refuse outbound workloads\n",
    );
}
