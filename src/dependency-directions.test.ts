import { globSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { describe, expect, it } from "vitest";

/**
 * The directions berth's folders depend on each other in, checked over the
 * real import graph of `src/` (every `import`/`export … from` of a relative
 * path, types included: a type import couples as much as a value one). A rule
 * names a folder and the folders of berth it must not import; tests and
 * `testing/` fakes are left out.
 */
const SRC = join(import.meta.dirname);

const RULES: { from: string; mayNotImport: readonly string[] | "anything"; why: string }[] = [
  {
    from: "code",
    mayNotImport: "anything",
    why: "code and releases are a leaf that lifecycle and updates both import (errors/ alone is allowed)",
  },
  {
    from: "errors",
    mayNotImport: "anything",
    why: "the error registry and its wire shape depend on nothing",
  },
  { from: "containers", mayNotImport: ["updates"], why: "lifecycle knows nothing of updates" },
  {
    from: "workload-files",
    mayNotImport: "anything",
    why: "a workload's files on its host are a port that lifecycle, updates, the node agent and its API side all import: code/ and errors/ only",
  },
  {
    from: "cluster",
    mayNotImport: "anything",
    why: "cluster's locks and leases are an adapter over PostgreSQL: errors/, util/, logging/ and the store's PostgreSQL plumbing only",
  },
  {
    from: "agent",
    mayNotImport: "anything",
    why: "the node agent is a program of its own on each node: the engine, the workload channel, config, logging, errors, util, the agent link, code, a workload's files, the resource sampler's probes and the egress filter only — never the API, lifecycle or the store",
  },
  {
    from: "agent-link",
    mayNotImport: "anything",
    why: "the wire between API servers and agents, imported by both ends: errors/, the engine's port, the channel's errors, code's checks and the egress filter's refusal only",
  },
  {
    from: "node-agents",
    mayNotImport: "anything",
    why: "the API side of node agents is an adapter of the engine, files and channel ports: the agent link, the ports, code, errors, logging and util only",
  },
  {
    from: "api",
    // Every adapter of the outside world (the engine, the store and the secrets it keeps sealed, the
    // workloads' channel, the host's firewall) and the command line, another entry point beside the API.
    mayNotImport: ["docker", "store", "secrets", "channel", "network", "cli", "fan-out"],
    why: "handlers talk to services only, never to an adapter (engine, store, channel, firewall, Redis) or the CLI",
  },
  {
    from: "fan-out",
    mayNotImport: ["api", "containers", "updates", "monitoring", "activity", "store", "docker", "channel"],
    why: "the fan-out is Redis's adapter: it gives Socket.IO an adapter and knows nothing of berth's services",
  },
];

/**
 * Of the store, berth sees the ports and their errors only; which database
 * implements them is the composition's choice (src/composition, berth.ts, main.ts, the CLI).
 */
const STORE_PORTS: readonly string[] = ["store/store-ports.ts", "store/store-errors.ts"];
const COMPOSITION: readonly string[] = ["berth.ts", "main.ts", "cli", "composition", "agent/main.ts"];
const STORE_WHY = "services use the store's ports (store-ports.ts, store-errors.ts), never an implementation";

/**
 * The updater drives lifecycle through its narrow port of steps
 * (containers/lifecycle-steps.ts), never through the ContainerManager itself.
 */
const LIFECYCLE_FACADE: readonly string[] = ["containers/container-manager.ts"];
const PORT_WHY = "the updater drives lifecycle through LifecycleSteps, never the ContainerManager";
/**
 * Of the engine, services see the port (DockerClient: create, start, stop,
 * remove, inspect, events, stats, logs …) and the engine's health, never the
 * dockerode adapter: a second engine (a cluster's) changes no service.
 */
const ENGINE_PORTS: readonly string[] = ["docker/docker-client.ts", "docker/engine-monitor.ts"];
const ENGINE_WHY = "services use the engine's port (docker-client.ts), never the dockerode adapter";
/** The composition root builds every part of berth: it imports them all, and only berth.ts imports it. */
const COMPOSITION_WHY = "only berth.ts builds berth: no part of berth imports the composition root";

/** Folders a leaf may still import. */
const LEAF_MAY_IMPORT: Record<string, readonly string[]> = {
  code: ["errors"],
  errors: [],
  cluster: ["errors", "util", "logging", "store"],
  "workload-files": ["code", "errors"],
  agent: [
    "docker",
    "channel",
    "config",
    "logging",
    "errors",
    "util",
    "agent-link",
    "workload-files",
    "code",
    "monitoring",
    // The node's firewall: the agent keeps the egress filter of its node's owner networks.
    "network",
  ],
  // The egress filter's refusal, rebuilt as itself on the API side (link-error.ts).
  "agent-link": ["errors", "docker", "channel", "code", "network"],
  "node-agents": ["agent-link", "docker", "channel", "errors", "logging", "util", "workload-files", "code"],
};

/** berth's version (version.ts, read from package.json): any part of berth may say it. */
const SHARED_ROOT_FILES: readonly string[] = ["version.ts"];

/**
 * The store's PostgreSQL plumbing that cluster's locks and leases connect
 * through (a pool, its errors, the password kept out of them): one way of
 * talking to PostgreSQL, not two.
 */
const PG_PLUMBING: readonly string[] = ["store/postgres/pg-database.ts", "store/postgres/pg-errors.ts"];
/**
 * Of cluster/, services see the ports (ContainerLocks, LeaderLease over a
 * LockSession) and the in-process implementation; which database holds the
 * locks is the composition's choice.
 */
const CLUSTER_ADAPTERS = /^cluster\/pg-/;
const CLUSTER_WHY = "services use cluster's ports, never its PostgreSQL adapters";

const IMPORT = /^(?:import|export)\b[^"']*?\bfrom\s+["'](\.{1,2}\/[^"']+)["']/gm;

function edges(): string[] {
  const found: string[] = [];
  const files = globSync("**/*.ts", { cwd: SRC }).filter(
    (f) => !f.endsWith(".test.ts") && !f.split("/").includes("testing"),
  );
  for (const file of files) {
    for (const [, spec] of readFileSync(join(SRC, file), "utf8").matchAll(IMPORT)) {
      const target = relative(SRC, join(dirname(join(SRC, file)), spec as string));
      found.push(`${file} → ${target}`);
    }
  }
  return found;
}

const folderOf = (path: string): string => (path.includes("/") ? (path.split("/")[0] ?? "") : "");

function breaks(edge: string): string | undefined {
  const [from, to] = edge.split(" → ") as [string, string];
  const a = folderOf(from);
  const b = folderOf(to);
  if (a === b || to.startsWith("..") || SHARED_ROOT_FILES.includes(to)) return undefined;
  // The composition roots: a folder of them, a file at the top, or a program's entry (the node agent's).
  const composes = COMPOSITION.includes(a === "" ? from : a) || COMPOSITION.includes(from);
  if (a === "updates" && LIFECYCLE_FACADE.includes(to)) return PORT_WHY;
  if (b === "composition" && a !== "") return COMPOSITION_WHY;
  if (a === "cluster" && PG_PLUMBING.includes(to)) return undefined;
  if (b === "store" && !STORE_PORTS.includes(to) && !composes) return STORE_WHY;
  if (b === "cluster" && CLUSTER_ADAPTERS.test(to) && !composes) return CLUSTER_WHY;
  if (b === "docker" && !ENGINE_PORTS.includes(to) && !composes) return ENGINE_WHY;
  for (const rule of RULES) {
    if (rule.from !== a) continue;
    const barred =
      rule.mayNotImport === "anything"
        ? !(LEAF_MAY_IMPORT[a] ?? []).includes(b)
        : rule.mayNotImport.includes(b);
    if (barred) return rule.why;
  }
  return undefined;
}

describe("the directions src/ depends in", () => {
  const all = edges();

  it("reads the import graph (a parse that found nothing would pass every rule)", () => {
    expect(all.length).toBeGreaterThan(500);
    expect(all).toContain("containers/create-container.ts → code/read-code.ts");
  });

  it("breaks no rule", () => {
    const broken = all.filter((e) => breaks(e) !== undefined);
    expect(broken.map((e) => `${e}: ${breaks(e)}`)).toEqual([]);
  });

  it("would catch a break: lifecycle importing the updater", () => {
    expect(breaks("containers/container-manager.ts → updates/code-updater.ts")).toBe(
      "lifecycle knows nothing of updates",
    );
    expect(breaks("code/read-code.ts → containers/container-manager.ts")).toBeDefined();
    expect(breaks("code/read-code.ts → errors/errors.ts")).toBeUndefined();
  });

  it("would catch a break: a workload's files reaching into lifecycle or the updater", () => {
    expect(breaks("workload-files/local-workload-files.ts → containers/undo-stack.ts")).toBeDefined();
    expect(breaks("workload-files/local-workload-files.ts → updates/code-updater.ts")).toBeDefined();
    expect(breaks("workload-files/local-workload-files.ts → code/release-pointer.ts")).toBeUndefined();
    expect(breaks("updates/gated-switch.ts → workload-files/workload-files.ts")).toBeUndefined();
    expect(breaks("agent/agent-workload-files.ts → workload-files/local-workload-files.ts")).toBeUndefined();
  });

  it("would catch a break: the updater reaching past its port into the manager", () => {
    expect(breaks("updates/code-updater.ts → containers/container-manager.ts")).toBe(PORT_WHY);
    expect(breaks("updates/code-updater.ts → containers/lifecycle-steps.ts")).toBeUndefined();
  });

  it("would catch a break: a handler reaching past the services", () => {
    for (const adapter of [
      "docker/docker-client.ts",
      "store/container-repository.ts",
      "secrets/key-ring.ts",
      "channel/protocol.ts",
      "network/egress-firewall.ts",
      "cli/rotate-secret-key.ts",
    ])
      expect(breaks(`api/monitoring-handlers.ts → ${adapter}`), adapter).toBeDefined();
    expect(breaks("api/monitoring-handlers.ts → monitoring/container-telemetry.ts")).toBeUndefined();
    expect(breaks("api/channel-handlers.ts → containers/container-manager.ts")).toBeUndefined();
  });

  it("would catch a break: a part of berth importing the composition root", () => {
    expect(breaks("containers/reconciler.ts → composition/compose-berth.ts")).toBe(COMPOSITION_WHY);
    expect(breaks("api/socket-io-event-handler.ts → composition/berth-parts.ts")).toBe(COMPOSITION_WHY);
    expect(breaks("berth.ts → composition/compose-berth.ts")).toBeUndefined();
    expect(breaks("composition/compose-berth.ts → composition/open-base.ts")).toBeUndefined();
  });

  it("would catch a break: a service reaching past the engine's port to the dockerode adapter", () => {
    expect(breaks("containers/create-container.ts → docker/dockerode-client.ts")).toBe(ENGINE_WHY);
    expect(breaks("monitoring/stats-sampler.ts → docker/engine-calls.ts")).toBe(ENGINE_WHY);
    expect(breaks("containers/create-container.ts → docker/docker-client.ts")).toBeUndefined();
    expect(breaks("composition/build-lifecycle.ts → docker/dockerode-client.ts")).toBeUndefined();
  });

  it("would catch a break: cluster's locks reaching into the API or a service, or past the PostgreSQL plumbing", () => {
    expect(breaks("cluster/leader-lease.ts → api/socket-io-event-handler.ts")).toBeDefined();
    expect(breaks("cluster/leader-lease.ts → containers/container-manager.ts")).toBeDefined();
    expect(breaks("cluster/pg-container-locks.ts → store/postgres/pg-container-store.ts")).toBe(STORE_WHY);
    expect(breaks("cluster/pg-container-locks.ts → store/postgres/pg-database.ts")).toBeUndefined();
    expect(breaks("cluster/pg-lock-session.ts → store/postgres/pg-errors.ts")).toBeUndefined();
    expect(breaks("cluster/pg-container-locks.ts → errors/errors.ts")).toBeUndefined();
    expect(breaks("cluster/leader-lease.ts → util/clock.ts")).toBeUndefined();
  });

  it("would catch a break: a service reaching past cluster's ports to PostgreSQL", () => {
    expect(breaks("containers/container-manager.ts → cluster/pg-container-locks.ts")).toBe(CLUSTER_WHY);
    expect(breaks("api/socket-io-event-handler.ts → cluster/pg-lock-session.ts")).toBe(CLUSTER_WHY);
    expect(breaks("containers/container-manager.ts → cluster/container-locks.ts")).toBeUndefined();
    expect(breaks("composition/build-lifecycle.ts → cluster/pg-container-locks.ts")).toBeUndefined();
  });

  it("would catch a break: the node agent reaching into the API, lifecycle or the store", () => {
    expect(breaks("agent/server-link.ts → api/agent-namespace.ts")).toBeDefined();
    expect(breaks("agent/engine-call-server.ts → containers/container-config.ts")).toBeDefined();
    expect(breaks("agent/main.ts → store/store-ports.ts")).toBeDefined();
    expect(breaks("agent/node-agent.ts → node-agents/agent-registry.ts")).toBeDefined();
    expect(breaks("agent/engine-call-server.ts → docker/dockerode-client.ts")).toBe(ENGINE_WHY);
    expect(breaks("agent/main.ts → docker/dockerode-client.ts")).toBeUndefined();
    expect(breaks("agent/engine-call-server.ts → agent-link/engine-methods.ts")).toBeUndefined();
    expect(breaks("agent/main.ts → config/agent-config.ts")).toBeUndefined();
  });

  it("would catch a break: the agent link or the API's side of agents reaching past the engine's port", () => {
    expect(breaks("agent-link/engine-methods.ts → containers/container-config.ts")).toBeDefined();
    expect(breaks("agent-link/link-error.ts → errors/errors.ts")).toBeUndefined();
    expect(breaks("node-agents/agent-connection.ts → api/berth-server.ts")).toBeDefined();
    expect(breaks("node-agents/remote-docker-client.ts → containers/container-manager.ts")).toBeDefined();
    expect(breaks("node-agents/remote-docker-client.ts → docker/docker-client.ts")).toBeUndefined();
    expect(breaks("node-agents/remote-docker-client.ts → docker/dockerode-client.ts")).toBe(ENGINE_WHY);
  });

  it("would catch a break: a service reaching past the store's ports to SQLite", () => {
    expect(breaks("containers/reconciler.ts → store/sqlite/sqlite-container-store.ts")).toBe(STORE_WHY);
    expect(breaks("containers/reconciler.ts → store/open-store.ts")).toBe(STORE_WHY);
    expect(breaks("containers/reconciler.ts → store/store-ports.ts")).toBeUndefined();
    expect(breaks("containers/container-manager.ts → store/store-errors.ts")).toBeUndefined();
    expect(breaks("berth.ts → store/open-store.ts")).toBeUndefined();
    expect(breaks("cli/rotate-secret-key.ts → store/sqlite/database.ts")).toBeUndefined();
  });
});
