import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { command } from "./testbed/command.ts";
import { type NodeNames, ROOT_DIR } from "./testbed/names.ts";

/**
 * On a real host, a node agent's service names host paths that are the same
 * on every node and hold that node's own things: its engine's socket
 * (/var/run/docker.sock) and its credential (/etc/berth/agent-credential).
 * The test bed's nodes share this machine's file system, so each node gets
 * them in its own mount namespace (its dockerd's, where the engine resolves
 * a task's bind mounts): these two paths, bound there to the node's own
 * socket and the node's own directory. Outside the nodes they are an empty
 * file and an empty directory, so a mount that did not take names nothing.
 */
export const NODE_ENGINE_SOCKET = join(ROOT_DIR, "engine.sock");
export const NODE_ETC = join(ROOT_DIR, "node-etc");

/**
 * Writes `files` (name → content, each root's with mode 0600, as a
 * credential must be) in the node's own directory, and binds that directory
 * onto NODE_ETC and the node's engine socket onto NODE_ENGINE_SOCKET inside
 * the node. Lasts as long as the node's dockerd (a restarted engine has a new namespace).
 */
export async function giveNodeHostFiles(node: NodeNames, files: Record<string, string>): Promise<void> {
  await mkdir(NODE_ETC, { recursive: true });
  await writeFile(NODE_ENGINE_SOCKET, "", { flag: "a" });
  const own = join(node.dir, "etc-berth");
  await mkdir(own, { recursive: true, mode: 0o700 });
  await chmod(own, 0o700);
  for (const [name, content] of Object.entries(files)) {
    await writeFile(join(own, name), content, { mode: 0o600 });
    await chmod(join(own, name), 0o600);
  }
  const dockerd = (await readFile(join(node.dir, "dockerd.pid"), "utf8")).trim();
  const inNode = (...args: string[]) => command("nsenter", [`--mount=/proc/${dockerd}/ns/mnt`, ...args]);
  await inNode("mount", "--bind", own, NODE_ETC);
  await inNode("mount", "--bind", node.socketPath, NODE_ENGINE_SOCKET);
}
