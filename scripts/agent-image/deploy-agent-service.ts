// berth's node agents as a Swarm global service: one agent on every node that
// carries the label berth.agent=true, from the image `npm run build:agent-image`
// makes (loaded on each such node: there is no registry). Run it where `docker`
// reaches a manager (DOCKER_HOST, or the local engine):
//   npm run agent:deploy -- --servers https://10.0.0.5:7300,https://10.0.0.6:7300
//   npm run agent:deploy -- --servers … --print     only print the `docker service create` command
// Options (each with its default): --mount-root /var/lib/berth-agent, --credential-file
// /etc/berth/agent-credential, --ca-file PATH, --engine-socket /var/run/docker.sock,
// --constraint node.labels.berth.agent==true, --name berth-agent, --image berth/agent:<version>,
// --log-level info, --allow-http (plain http to the API servers, on a network of your own),
// --iptables-backend nft|legacy|none (by default the image's label berth.iptables, as the engine
// `docker` reaches has it: what the image's iptables needs, see agentServiceArgs).
//
// Each node's credential stays a file on that node, mounted read-only: it is
// never in the service's spec (which every manager's operator reads), never a
// Swarm secret (which would reach every node's task, and a credential is one node's).
import { spawnSync } from "node:child_process";
import { parseArgs } from "node:util";
import { AGENT_IMAGE, IPTABLES_LABEL } from "./build-agent-image.ts";
import type { IptablesBackend } from "./iptables-runtime.ts";

export interface AgentServiceOptions {
  /** BERTH_AGENT_SERVERS: every API server's URL, each dialled directly. */
  readonly servers: string;
  /** BERTH_AGENT_MOUNT_ROOT on every node: bound at the same path inside, since the agent names host paths to its engine. */
  readonly mountRoot?: string;
  /** The node's credential file on each node's own disk (mode 0600), mounted read-only. */
  readonly credentialFile?: string;
  /** BERTH_AGENT_CA_FILE's PEM on each node, when the API servers' certificates are the cluster's own CA's. */
  readonly caFile?: string;
  /** The node's engine socket, on each node. */
  readonly engineSocket?: string;
  /** Where the agents run: the nodes that take workloads. */
  readonly constraint?: string;
  readonly name?: string;
  readonly image?: string;
  readonly logLevel?: string;
  readonly allowHttp?: boolean;
  /** The iptables back end the image carries (its label berth.iptables): nft by default, as Debian 12's. */
  readonly iptablesBackend?: IptablesBackend | "none";
}

/** iptables-legacy serialises every writer of the host's rules (Docker's engine among them) with this file's lock. */
export const XTABLES_LOCK = "/run/xtables.lock";

/** Where the agent finds its credential and CA inside its container (whatever their paths on the node). */
export const CREDENTIAL_IN_CONTAINER = "/etc/berth/agent-credential";
export const CA_IN_CONTAINER = "/etc/berth/ca.pem";
const ENGINE_SOCKET_IN_CONTAINER = "/var/run/docker.sock";

export const AGENT_SERVICE_DEFAULTS = {
  mountRoot: "/var/lib/berth-agent",
  credentialFile: "/etc/berth/agent-credential",
  engineSocket: "/var/run/docker.sock",
  constraint: "node.labels.berth.agent==true",
  name: "berth-agent",
  logLevel: "info",
  iptablesBackend: "nft",
} as const;

/**
 * The arguments of `docker service create` for the agents. A global service
 * (one task on each node the constraint admits, started again when it exits);
 * on the node's own network (it dials out to the API servers and listens on
 * nothing; a task on the default bridge would need the node's NAT to reach
 * them); a read-only root, and of root's powers only those over files (the
 * channel sockets are handed to each workload's uid) and, for the egress
 * filter of outbound workloads, over the node's firewall: CAP_NET_ADMIN on the
 * host network it already has (nf_tables speaks netlink; iptables-legacy also
 * opens a raw socket, CAP_NET_RAW, and takes the host's xtables lock, mounted
 * from the node so that the agent and the engine never write at once). The
 * agent holds the node's engine socket, which is the node, so this is depth,
 * not the fence.
 */
export function agentServiceArgs(options: AgentServiceOptions): string[] {
  const o = { ...AGENT_SERVICE_DEFAULTS, image: AGENT_IMAGE, ...options };
  if (!o.servers) throw new Error("--servers is required: every API server's URL, comma-separated");
  const env: Record<string, string> = {
    BERTH_AGENT_SERVERS: o.servers,
    BERTH_AGENT_MOUNT_ROOT: o.mountRoot,
    BERTH_AGENT_CREDENTIAL_FILE: CREDENTIAL_IN_CONTAINER,
    BERTH_LOG_LEVEL: o.logLevel,
    ...(o.caFile ? { BERTH_AGENT_CA_FILE: CA_IN_CONTAINER } : {}),
    ...(o.allowHttp ? { BERTH_AGENT_ALLOW_HTTP: "true" } : {}),
  };
  const bind = (src: string, dst: string, readonly = false) =>
    `type=bind,src=${src},dst=${dst}${readonly ? ",readonly" : ""}`;
  const mounts = [
    bind(o.engineSocket, ENGINE_SOCKET_IN_CONTAINER),
    // The same path inside and out: the agent names these directories to its engine for workloads' mounts.
    bind(o.mountRoot, o.mountRoot),
    bind(o.credentialFile, CREDENTIAL_IN_CONTAINER, true),
    ...(o.caFile ? [bind(o.caFile, CA_IN_CONTAINER, true)] : []),
    ...(o.iptablesBackend === "legacy" ? [bind(XTABLES_LOCK, XTABLES_LOCK)] : []),
  ];
  const firewallCaps = { nft: ["CAP_NET_ADMIN"], legacy: ["CAP_NET_ADMIN", "CAP_NET_RAW"], none: [] }[
    o.iptablesBackend
  ];
  return [
    "service",
    "create",
    "--detach",
    `--name=${o.name}`,
    "--mode=global",
    // No registry: each node runs the image it was given (`docker load`), and the manager asks none for a digest.
    "--no-resolve-image",
    `--constraint=${o.constraint}`,
    "--network=host",
    "--read-only",
    "--cap-drop=ALL",
    ...["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", ...firewallCaps].map((cap) => `--cap-add=${cap}`),
    ...mounts.map((m) => `--mount=${m}`),
    ...Object.entries(env).map(([k, v]) => `--env=${k}=${v}`),
    // Started again whenever it exits, after a short pause (an API server away is the agent's own retry).
    "--restart-condition=any",
    "--restart-delay=2s",
    // Never two agents on one node: the old one stops before the new one starts.
    "--update-order=stop-first",
    o.image,
  ];
}

/**
 * The back end named, else the one the image's label says (on the engine `docker` reaches, when it has
 * the image), else nft. A wrong guess fails closed: the agent's filter check fails and its node refuses
 * outbound workloads, saying why.
 */
function iptablesBackendOf(named: string | undefined, image: string): IptablesBackend | "none" {
  const known = (value: string | undefined) =>
    value === "nft" || value === "legacy" || value === "none" ? value : undefined;
  if (named !== undefined) {
    const backend = known(named);
    if (backend === undefined) throw new Error(`--iptables-backend is nft, legacy or none, not ${named}`);
    return backend;
  }
  const r = spawnSync(
    "docker",
    ["image", "inspect", "--format", `{{index .Config.Labels "${IPTABLES_LABEL}"}}`, image],
    { encoding: "utf8" },
  );
  return (r.status === 0 ? known(r.stdout.trim()) : undefined) ?? AGENT_SERVICE_DEFAULTS.iptablesBackend;
}

function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`;
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      servers: { type: "string" },
      "mount-root": { type: "string" },
      "credential-file": { type: "string" },
      "ca-file": { type: "string" },
      "engine-socket": { type: "string" },
      constraint: { type: "string" },
      name: { type: "string" },
      image: { type: "string" },
      "log-level": { type: "string" },
      "allow-http": { type: "boolean" },
      "iptables-backend": { type: "string" },
      print: { type: "boolean" },
    },
  });
  let args: string[];
  try {
    args = agentServiceArgs({
      servers: values.servers ?? "",
      ...(values["mount-root"] ? { mountRoot: values["mount-root"] } : {}),
      ...(values["credential-file"] ? { credentialFile: values["credential-file"] } : {}),
      ...(values["ca-file"] ? { caFile: values["ca-file"] } : {}),
      ...(values["engine-socket"] ? { engineSocket: values["engine-socket"] } : {}),
      ...(values.constraint ? { constraint: values.constraint } : {}),
      ...(values.name ? { name: values.name } : {}),
      ...(values.image ? { image: values.image } : {}),
      ...(values["log-level"] ? { logLevel: values["log-level"] } : {}),
      ...(values["allow-http"] ? { allowHttp: true } : {}),
      iptablesBackend: iptablesBackendOf(values["iptables-backend"], values.image ?? AGENT_IMAGE),
    });
  } catch (err) {
    process.stderr.write(`agent:deploy: ${(err as Error).message}\n`);
    process.exit(2);
  }
  const [verb, sub, ...rest] = args.map(shellQuote);
  process.stdout.write(`docker ${verb} ${sub} \\\n  ${rest.join(" \\\n  ")}\n`);
  if (!values.print) {
    const r = spawnSync("docker", args, { stdio: "inherit" });
    process.exit(r.status ?? 1);
  }
}
