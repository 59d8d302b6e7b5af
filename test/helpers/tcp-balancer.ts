import { connect, createServer, type Socket } from "node:net";

/**
 * A plain TCP load balancer on a loopback port, as operators put in front of
 * berth's API servers: each connection goes whole to one backend, the first
 * of `backends` that accepts it (no stickiness, no HTTP awareness). A test
 * changes `backends` to take a server out or put one in; connections already
 * made stay where they are. `close()` ends it (safe to call twice).
 *
 * @example
 *   const lb = await startTcpBalancer([port1, port2]);
 *   io(lb.url, { transports: ["websocket"] });
 *   lb.backends = [port2]; // server 1 out of rotation
 */
export interface TcpBalancer {
  readonly url: string;
  backends: number[];
  close(): Promise<void>;
}

/** `host` is where the backends listen (loopback unless said: the cluster test bed's servers are on its bridge). */
export async function startTcpBalancer(backends: number[], host = "127.0.0.1"): Promise<TcpBalancer> {
  const open = new Set<Socket>();
  const balancer = { backends: [...backends] };
  const server = createServer((client) => {
    open.add(client);
    client.once("close", () => open.delete(client));
    client.on("error", () => client.destroy());
    client.pause();
    void pipeToFirst(client, [...balancer.backends]);
  });

  /** Tries the backends in order; a client no backend takes is closed, as a balancer with none up does. */
  async function pipeToFirst(client: Socket, ports: number[]): Promise<void> {
    for (const port of ports) {
      const upstream = await reach(port, host);
      if (!upstream) continue;
      if (client.destroyed) {
        upstream.destroy();
        return;
      }
      open.add(upstream);
      upstream.once("close", () => {
        open.delete(upstream);
        client.destroy();
      });
      upstream.on("error", () => upstream.destroy());
      client.once("close", () => upstream.destroy());
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
      return;
    }
    client.destroy();
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("the balancer has no port");
  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${address.port}`,
    get backends() {
      return balancer.backends;
    },
    set backends(ports: number[]) {
      balancer.backends = [...ports];
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      });
      return closing;
    },
  };
}

/** A connection to the backend on `port`, or undefined when nothing accepts there. */
function reach(port: number, host: string): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const upstream = connect(port, host);
    upstream.once("connect", () => {
      upstream.removeAllListeners("error");
      resolve(upstream);
    });
    upstream.once("error", () => resolve(undefined));
  });
}
