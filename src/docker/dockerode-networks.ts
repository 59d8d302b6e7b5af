import type Dockerode from "dockerode";
import type { NetworkInfo, NetworkSpec } from "./docker-client.ts";
import type { EngineCalls } from "./engine-calls.ts";
import { labelFilters } from "./engine-values.ts";

/** The DockerClient's network calls over dockerode: one bridge per owner, made idempotently. */
export class DockerodeNetworks {
  readonly #docker: Dockerode;
  readonly #calls: EngineCalls;

  constructor(docker: Dockerode, calls: EngineCalls) {
    this.#docker = docker;
    this.#calls = calls;
  }

  async ensure(spec: NetworkSpec): Promise<NetworkInfo> {
    return this.#calls.run("network create", async () => {
      const existing = await this.#inspect(spec.name);
      if (existing) return existing;
      try {
        await this.#docker.createNetwork({
          Name: spec.name,
          Driver: "bridge",
          CheckDuplicate: true,
          // Said outright, so that a daemon defaulting new networks to IPv6 does not open a path the filter does not cover.
          EnableIPv6: false,
          Labels: spec.labels,
          Options: spec.options ?? {},
        });
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode !== 409) throw err; // made meanwhile by a concurrent create
      }
      const made = await this.#inspect(spec.name);
      if (!made)
        throw Object.assign(new Error(`network ${spec.name} vanished after its creation`), {
          statusCode: 404,
        });
      return made;
    });
  }

  async inspect(name: string): Promise<NetworkInfo | undefined> {
    return this.#calls.run("network inspect", () => this.#inspect(name));
  }

  async remove(name: string): Promise<boolean> {
    return this.#calls.run(
      "network remove",
      async () => {
        try {
          await this.#docker.getNetwork(name).remove();
          return true;
        } catch (err) {
          // 403: still has endpoints; the last container of its owner removes it later.
          if ((err as { statusCode?: number }).statusCode === 403) return false;
          throw err;
        }
      },
      () => true,
    );
  }

  async list(labels: Record<string, string>): Promise<string[]> {
    const list = await this.#calls.run("network list", () =>
      this.#docker.listNetworks({ filters: { label: labelFilters(labels) } }),
    );
    return list.map((n) => n.Name);
  }

  async #inspect(name: string): Promise<NetworkInfo | undefined> {
    try {
      const n = (await this.#docker.getNetwork(name).inspect()) as {
        Id: string;
        Options?: Record<string, string>;
      };
      return { id: n.Id, bridge: n.Options?.["com.docker.network.bridge.name"] ?? `br-${n.Id.slice(0, 12)}` };
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return undefined;
      throw err;
    }
  }
}
