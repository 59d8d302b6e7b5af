import type { CallOptions } from "./call-options.ts";
import type { ClientStreams } from "./client-streams.ts";
import { Container } from "./container.ts";
import { ContainerList, type ListOptions } from "./container-list.ts";
import { operationOptions } from "./operation-wait.ts";
import { type ProgressListener, withProgress } from "./progress.ts";
import type { ContainerSpec } from "./protocol/index.ts";

/** `client.containers`: make containers, find them, list them. */
export class Containers {
  readonly #streams: ClientStreams;

  constructor(streams: ClientStreams) {
    this.#streams = streams;
  }

  /**
   * Creates a container (and by default starts it and waits until its
   * workload is ready) and returns its handle; `info.timings` says how long
   * each step took. `onProgress` receives each step as it happens. Code over
   * berth's limits is refused before sending (PAYLOAD_TOO_LARGE).
   *
   * @example
   *   const bot = await berth.containers.create(
   *     { name: "weather-bot", code: { files: { "index.js": source } } },
   *     { onProgress: (e) => console.log(e.step, e.status, e.ms ?? "") },
   *   );
   *   // A Python workload: the server's Python image runs the code's main.py.
   *   await berth.containers.create({ name: "py-bot", runtime: "python", code: { files: { "main.py": py } } });
   */
  async create(
    spec: ContainerSpec,
    options: { onProgress?: ProgressListener } & CallOptions = {},
  ): Promise<Container> {
    const { onProgress, ...call } = options;
    const created = await withProgress(this.#streams.core, onProgress, (progress) =>
      this.#streams.core.call(
        "container:create",
        progress ? { ...spec, progress } : spec,
        // Started and waited for by default: the client waits as long as berth may (operationOptions).
        operationOptions(
          this.#streams.core,
          call,
          spec.start === false || spec.waitReady === false ? {} : { ready: {} },
        ),
      ),
    );
    return new Container(this.#streams, created);
  }

  /**
   * A handle on the container with this id or name (NOT_FOUND if the caller
   * has none), from its plain status: without its spec, which is fetched
   * only when asked for (`container.status({ spec: true })`).
   */
  async get(idOrName: string, options: CallOptions = {}): Promise<Container> {
    const info = await this.#streams.core.call("container:status", { id: idOrName }, options);
    return new Container(this.#streams, info);
  }

  /** The caller's containers: iterate over all pages with `for await`, or read one with `.page()`. */
  list(options: ListOptions = {}): ContainerList {
    return new ContainerList(this.#streams.core, options);
  }
}
