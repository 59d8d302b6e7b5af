import type Dockerode from "dockerode";
import type { Config } from "../../../src/config/config.ts";
import { buildCreateBody } from "../../../src/containers/container-config.ts";
import type { StoredSpec } from "../../../src/containers/container-spec.ts";
import { PROBE_SCRIPT } from "./hardening-probe.ts";

/** berth's defaults for a spec that names no limits (BERTH_DEFAULT_CPUS, …_MEMORY_MB, …_PIDS). */
const DEFAULTS = { defaultCpus: 1, defaultMemoryMb: 256, defaultPids: 256 } as Config;

/**
 * Creates (not starts) a workload as single-host berth does today: the create
 * body is berth's own (`buildCreateBody`), so every option is exactly the one
 * berth sets; only the command is the hardening probe.
 */
export async function createPlainWorkload(
  docker: Dockerode,
  options: { id: string; uid: number; image: string; socketDir: string; codeDir: string },
): Promise<Dockerode.Container> {
  const body = buildCreateBody({
    id: options.id,
    owner: "spike",
    instanceId: "spike",
    uid: options.uid,
    spec: { name: options.id, command: ["node", "-e", PROBE_SCRIPT] } as StoredSpec,
    image: options.image,
    socketDir: options.socketDir,
    codeDir: options.codeDir,
    hasCode: false,
    networkName: undefined,
    config: DEFAULTS,
  });
  return docker.createContainer(body as Dockerode.ContainerCreateOptions);
}
