import type Dockerode from "dockerode";
import type { Berth } from "../src/berth.ts";
import { SocketCommunicationHandler } from "../src/channel/socket-communication-handler.ts";
import type { Config } from "../src/config/config.ts";
import type { Cleanup } from "./cleanup.ts";
import { removeDirect, startDirect } from "./direct-container.ts";
import { SDK_ECHO_WORKLOAD } from "./echo-workload.ts";

/** How (b) reaches a workload through berth's channel hub, and what that is, for the report. */
export interface HubPath {
  call: (data: unknown) => Promise<unknown>;
  how: string;
}

/**
 * (b): `SocketCommunicationHandler.request()` to an SDK echo workload.
 *
 * Berth keeps its hub in a private field (`#channel`), so a benchmark cannot
 * reach it. When Berth exposes it as `channel`, (b) uses berth's own hub and
 * the container berth made for (c). Until then (b) builds a hub of the same
 * class with the options berth gives its own (src/composition/compose-berth.ts: frame limit, request
 * timeout cap, logger; default heartbeat and queue bound), and a container made
 * with berth's create body whose socket that hub opens, as berth would.
 */
export async function berthHub(opts: {
  berth: Berth;
  berthContainerId: string;
  docker: Dockerode;
  config: Config;
  root: string;
  cleanup: Cleanup;
}): Promise<HubPath> {
  const exposed = (opts.berth as unknown as { channel?: unknown }).channel;
  if (exposed instanceof SocketCommunicationHandler) {
    return {
      call: (data) => exposed.request(opts.berthContainerId, data),
      how: "berth's own hub (Berth.channel), to the container of (c)",
    };
  }
  const runDir = `${opts.root}/hub`;
  const hub = new SocketCommunicationHandler({
    runDir,
    maxFrameBytes: opts.config.maxFrameBytes,
    maxRequestTimeoutMs: opts.config.maxRequestTimeoutMs,
    log: opts.berth.log,
  });
  opts.cleanup.add("close the (b) hub", () => hub.closeAll());
  const c = await startDirect({
    docker: opts.docker,
    config: opts.config,
    root: `${opts.root}/hub-code`,
    instanceLabel: `direct-${opts.berth.instanceId}`,
    code: SDK_ECHO_WORKLOAD,
    socketDirFor: (id) => `${runDir}/${id}`,
    beforeStart: (c) => hub.open(c.id, { uid: c.uid, gid: c.uid }),
  });
  opts.cleanup.add("remove the (b) container", () => removeDirect(c));
  await hub.waitForHello(c.id, { signal: AbortSignal.timeout(30_000) });
  return {
    call: (data) => hub.request(c.id, data),
    how: "Berth has no accessor for its hub (private #channel): a SocketCommunicationHandler built with berth's options, in berth's process, to an SDK echo container made with berth's create body",
  };
}
