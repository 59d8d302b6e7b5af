import { deriveAgentCredential, SWARM_NODE_ID } from "../agent-link/agent-credential.ts";
import { ConfigError } from "../config/config-error.ts";
import { checkAgentToken } from "../config/sections/agent-link-config.ts";

/**
 * `npm run agent:credential -- NODE_ID`: prints the credential of one node's
 * agent — on stdout, and nothing else, so that it can go straight into that
 * node's credential file — derived from the API servers' master key
 * (BERTH_AGENT_TOKEN in the environment). Run it where the master key is,
 * once per node, with the node id `docker node ls` shows.
 *
 * @example
 *   npm run --silent agent:credential -- 8x2kq0f9d3zq1m6a5c4v7b8n0 | ssh root@node-3 \
 *     'umask 077 && mkdir -p /etc/berth && cat > /etc/berth/agent-credential'
 */
function main(argv: readonly string[], env: NodeJS.ProcessEnv): number {
  const [nodeId, ...rest] = argv;
  if (nodeId === undefined || rest.length > 0) {
    process.stderr.write(
      "usage: npm run agent:credential -- NODE_ID   (BERTH_AGENT_TOKEN in the environment)\n",
    );
    return 2;
  }
  if (!SWARM_NODE_ID.test(nodeId)) {
    process.stderr.write(
      `berth: '${nodeId}' is not a Swarm node id (lower-case letters and digits, as \`docker node ls\` shows)\n`,
    );
    return 2;
  }
  const master = env.BERTH_AGENT_TOKEN;
  if (!master) {
    process.stderr.write("berth: BERTH_AGENT_TOKEN is required: the API servers' master key\n");
    return 2;
  }
  try {
    checkAgentToken(master);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`berth: ${err.message}\n`);
    return 2;
  }
  process.stdout.write(`${deriveAgentCredential(master, nodeId)}\n`);
  return 0;
}

process.exitCode = main(process.argv.slice(2), process.env);
