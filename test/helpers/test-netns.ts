import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes, randomInt } from "node:crypto";
import { once } from "node:events";
import { promisify } from "node:util";

const run = promisify(execFile);

/**
 * A private host for network tests: a network namespace joined to the host
 * by a veth pair on a random 10.213.x.0/30, with extra addresses of our
 * choosing (e.g. 169.254.169.254) routed to it, and a TCP listener inside
 * that records who connected. Traffic to it never leaves this machine,
 * whether or not berth's filter is in place. `destroy()` removes the
 * namespace, which takes the veth pair and its routes with it.
 */
export interface TestNetns {
  /** The namespace's own address, e.g. 10.213.7.2. */
  readonly address: string;
  /** The /30 it sits in, e.g. 10.213.7.0/30. */
  readonly subnet: string;
  readonly port: number;
  /** Remote addresses of the connections the listener accepted so far. */
  readonly accepted: string[];
  destroy(): Promise<void>;
}

/** Chosen before the namespace exists, so a server's configuration can name the subnet. */
export function pickSubnet(): { subnet: string; host: string; address: string } {
  const x = randomInt(0, 64) * 4;
  const y = randomInt(0, 256);
  return { subnet: `10.213.${y}.${x}/30`, host: `10.213.${y}.${x + 1}`, address: `10.213.${y}.${x + 2}` };
}

export async function createTestNetns(
  net: { host: string; address: string; subnet: string },
  extraAddresses: string[] = [],
): Promise<TestNetns> {
  const tag = randomBytes(3).toString("hex");
  const ns = `berth-t-${tag}`;
  const outside = `bvh${tag}`;
  const inside = `bvn${tag}`;
  const ip = (...args: string[]) => run("ip", args);
  const inNs = (...args: string[]) => run("ip", ["netns", "exec", ns, "ip", ...args]);
  let listener: ChildProcess | undefined;
  const destroy = async () => {
    listener?.kill();
    await ip("netns", "del", ns).catch(() => {});
  };
  try {
    await ip("netns", "add", ns);
    await ip("link", "add", outside, "type", "veth", "peer", "name", inside);
    await ip("link", "set", inside, "netns", ns);
    await ip("addr", "add", `${net.host}/30`, "dev", outside);
    await ip("link", "set", outside, "up");
    await inNs("link", "set", "lo", "up");
    await inNs("addr", "add", `${net.address}/30`, "dev", inside);
    for (const a of extraAddresses) await inNs("addr", "add", `${a}/32`, "dev", inside);
    await inNs("link", "set", inside, "up");
    await inNs("route", "add", "default", "via", net.host);
    for (const a of extraAddresses) await ip("route", "add", `${a}/32`, "via", net.address, "dev", outside);

    // A workload's probe may reset its connection: the test host hears the error rather than dying of it.
    const script = `const s=require("node:net").createServer((c)=>{c.on("error",()=>{});console.log("conn "+c.remoteAddress);c.end("hi\\n")});s.listen(0,"0.0.0.0",()=>console.log("port "+s.address().port));`;
    const child = spawn("ip", ["netns", "exec", ns, process.execPath, "-e", script], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    listener = child;
    const accepted: string[] = [];
    let port = 0;
    let buffered = "";
    const ready = new Promise<void>((resolve, reject) => {
      child.once("exit", (code) => reject(new Error(`the namespace's listener exited (${code})`)));
      child.stdout?.on("data", (chunk: Buffer) => {
        buffered += chunk.toString();
        for (let nl = buffered.indexOf("\n"); nl !== -1; nl = buffered.indexOf("\n")) {
          const line = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          if (line.startsWith("port ")) {
            port = Number(line.slice(5));
            resolve();
          } else if (line.startsWith("conn ")) accepted.push(line.slice(5));
        }
      });
    });
    await ready;
    return {
      address: net.address,
      subnet: net.subnet,
      port,
      accepted,
      async destroy() {
        child.kill();
        if (child.exitCode === null && child.signalCode === null) await once(child, "exit");
        await destroy();
      },
    };
  } catch (err) {
    await destroy();
    throw err;
  }
}
