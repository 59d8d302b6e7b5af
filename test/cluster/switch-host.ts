import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { ip, ipIn } from "./testbed/command.ts";
import { BRIDGE, PREFIX, SUBNET_BITS, SWITCH_NETNS } from "./testbed/names.ts";

/** A host of the test's own on the test bed's switch: a namespace, its veth, and a TCP listener. */
export interface SwitchHost {
  readonly address: string;
  readonly port: number;
  /** Remote addresses of the connections the listener accepted so far. */
  readonly accepted: string[];
  destroy(): Promise<void>;
}

const NETNS = `${PREFIX}th`;
const PORT_LINK = `${PREFIX}thb`;
const HOST_LINK = `${PREFIX}thn`;

/**
 * A test host on the test bed's switch, beside the nodes (at `address`, in
 * the bridge's subnet): a network namespace of its own joined to the bridge
 * by a veth pair, with a TCP listener that records who connected. Named with
 * the test bed's prefix, so that a test bed's clean-up removes it too, should
 * the test that made it die first. Traffic to it never leaves this machine.
 */
export async function startSwitchHost(address: string): Promise<SwitchHost> {
  let listener: ChildProcess | undefined;
  const destroy = async () => {
    listener?.kill("SIGKILL");
    if (listener && listener.exitCode === null && listener.signalCode === null)
      await once(listener, "exit").catch(() => {});
    await ip("netns", "delete", NETNS).catch(() => {});
  };
  try {
    await ip("netns", "add", NETNS);
    await ipIn(
      SWITCH_NETNS,
      "link",
      "add",
      PORT_LINK,
      "type",
      "veth",
      "peer",
      "name",
      HOST_LINK,
      "netns",
      NETNS,
    );
    await ipIn(SWITCH_NETNS, "link", "set", PORT_LINK, "master", BRIDGE, "up");
    await ipIn(NETNS, "link", "set", "lo", "up");
    await ipIn(NETNS, "addr", "add", `${address}/${SUBNET_BITS}`, "dev", HOST_LINK);
    await ipIn(NETNS, "link", "set", HOST_LINK, "up");
    const script = `const s=require("node:net").createServer((c)=>{c.on("error",()=>{});console.log("conn "+c.remoteAddress);c.end("hi\\n")});s.listen(0,"0.0.0.0",()=>console.log("port "+s.address().port));`;
    const child = spawn("ip", ["netns", "exec", NETNS, process.execPath, "-e", script], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    listener = child;
    const accepted: string[] = [];
    let buffered = "";
    const port = await new Promise<number>((resolve, reject) => {
      child.once("exit", (code) => reject(new Error(`the test host's listener exited (${code})`)));
      child.stdout?.on("data", (chunk: Buffer) => {
        buffered += chunk.toString();
        for (let nl = buffered.indexOf("\n"); nl !== -1; nl = buffered.indexOf("\n")) {
          const line = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          if (line.startsWith("port ")) resolve(Number(line.slice(5)));
          else if (line.startsWith("conn ")) accepted.push(line.slice(5));
        }
      });
    });
    return { address, port, accepted, destroy };
  } catch (err) {
    await destroy();
    throw err;
  }
}
