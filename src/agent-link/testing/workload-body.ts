import type { Config } from "../../config/config.ts";
import { buildCreateBody, type CreateBodyInput } from "../../containers/container-config.ts";
import type { StoredSpec } from "../../containers/container-spec.ts";
import type { ContainerCreateBody } from "../../docker/docker-client.ts";

/** berth's defaults for a spec that names no limits (BERTH_DEFAULT_CPUS, …_MEMORY_MB, …_PIDS). */
const DEFAULTS = { defaultCpus: 1, defaultMemoryMb: 256, defaultPids: 256 } as Config;

/** A workload's create body exactly as single-host berth makes it (buildCreateBody), for tests of the agent link. */
export function workloadBody(
  overrides: Partial<Omit<CreateBodyInput, "spec" | "config">> & { spec?: Partial<StoredSpec> } = {},
): ContainerCreateBody {
  const { spec, ...rest } = overrides;
  return buildCreateBody({
    id: "Cagentlinktest01",
    owner: "alice",
    instanceId: "agent-link-test",
    uid: 100_123,
    image: "berth/runtime-node:24",
    socketDir: "/tmp/berth-agent-link/run/C1",
    codeDir: "/tmp/berth-agent-link/code/C1",
    hasCode: false,
    networkName: undefined,
    ...rest,
    spec: { name: "probe", ...spec } as StoredSpec,
    config: DEFAULTS,
  });
}
