import type { DockerClient } from "../docker/docker-client.ts";
import { NotFoundError } from "../errors/errors.ts";
import type { ContainerTarget } from "./container-target.ts";

/**
 * A ContainerTarget that asks the engine where a container runs. `dockerIdOf`
 * is read on every resolve, so a container whose engine container was
 * replaced (an adoption, a re-create) is found under its current id;
 * NOT_FOUND when it has none or the engine knows it no more.
 *
 * ```ts
 * const target = engineTarget(docker, async () => (await containers.get(id))?.dockerId);
 * const { dockerId, pid } = await target.resolve();
 * ```
 */
export function engineTarget(
  docker: Pick<DockerClient, "inspectContainer">,
  dockerIdOf: () => Promise<string | null | undefined>,
): ContainerTarget {
  return {
    resolve: async () => {
      const dockerId = await dockerIdOf();
      const inspect = dockerId ? await docker.inspectContainer(dockerId) : undefined;
      if (!inspect) throw new NotFoundError();
      return {
        dockerId: inspect.Id,
        pid: inspect.State.Running ? inspect.State.Pid : 0,
        logPath: inspect.LogPath || undefined,
        nanoCpus: inspect.HostConfig?.NanoCpus || undefined,
        pidsLimit: inspect.HostConfig?.PidsLimit || undefined,
      };
    },
  };
}
