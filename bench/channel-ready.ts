import type Dockerode from "dockerode";
import type { Config } from "../src/config/config.ts";
import { type DirectContainer, HelloListener, removeDirect, startDirect } from "./direct-container.ts";
import { SDK_ECHO_WORKLOAD } from "./echo-workload.ts";

export interface ReadyTimes {
  berth: number[];
  direct: number[];
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * (e): create-until-ready. Through berth: `container:create` with the SDK echo
 * workload, acknowledged once its hello has arrived. Directly: from writing the
 * same code to disk, through listening on a bare Unix socket (chmod 0600,
 * lchown to the container's uid), dockerode create + start with berth's own
 * create body, to the hello arriving on that socket. One warm-up round, then
 * `rounds` rounds that alternate which goes first; the containers are removed
 * (untimed) after each.
 */
export async function measureReady(opts: {
  rounds: number;
  ack: (event: string, payload: unknown) => Promise<{ id: string }>;
  docker: Dockerode;
  config: Config;
  root: string;
  instanceLabel: string;
}): Promise<ReadyTimes> {
  const times: ReadyTimes = { berth: [], direct: [] };
  const viaBerth = async (round: number) => {
    const t = performance.now();
    const info = await opts.ack("container:create", {
      name: `ready-${round + 1}`,
      code: { files: { "index.js": SDK_ECHO_WORKLOAD } },
    });
    const ms = performance.now() - t;
    await opts.ack("container:delete", { id: info.id });
    return ms;
  };
  const direct = async () => {
    let listener: HelloListener | undefined;
    let c: DirectContainer | undefined;
    try {
      const t = performance.now();
      c = await startDirect({
        docker: opts.docker,
        config: opts.config,
        root: opts.root,
        instanceLabel: opts.instanceLabel,
        code: SDK_ECHO_WORKLOAD,
        beforeStart: async (made) => {
          listener = await HelloListener.listen(made);
        },
      });
      await within(listener!.hello, 30_000, "direct container's hello");
      return performance.now() - t;
    } finally {
      listener?.close();
      if (c) await removeDirect(c);
    }
  };
  for (let round = -1; round < opts.rounds; round++) {
    const berthFirst = round % 2 === 0;
    const a = berthFirst ? await viaBerth(round) : await direct();
    const b = berthFirst ? await direct() : await viaBerth(round);
    if (round < 0) continue;
    times.berth.push(berthFirst ? a : b);
    times.direct.push(berthFirst ? b : a);
  }
  return times;
}
