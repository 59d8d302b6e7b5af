import type { DockerClient, EventSubscription } from "../docker/docker-client.ts";
import { presentOutputLine } from "../logging/present-output-line.ts";
import type { OwnerRedactors } from "../logging/secret-registry.ts";
import type { ContainerRecord } from "../store/container-repository.ts";
import { type ContainerLogLine, LogLineSplitter } from "./log-line-splitter.ts";

export const DEFAULT_LOG_TAIL = 100;
export const MAX_LOG_TAIL = 5_000;

/**
 * A workload's output as clients see it: demultiplexed into stdout and stderr
 * lines with timestamps, then each whole line through presentOutputLine —
 * sanitised, redacted with the container owner's secrets (whoever reads it,
 * the admin included), and only then cut. Lines are assembled whole before
 * that, so a secret that the workload wrote in two pieces — or that the
 * engine delivered across two chunks — is still caught.
 */
export class ContainerLogs {
  readonly #docker: DockerClient;
  readonly #redactors: OwnerRedactors;

  constructor(docker: DockerClient, redactors: OwnerRedactors) {
    this.#docker = docker;
    this.#redactors = redactors;
  }

  async recent(
    record: ContainerRecord,
    opts: { tail?: number | undefined; sinceMs?: number | undefined },
  ): Promise<ContainerLogLine[]> {
    if (!record.dockerId) return [];
    const raw = await this.#docker.readLogs(record.dockerId, {
      tail: opts.tail ?? DEFAULT_LOG_TAIL,
      ...(opts.sinceMs === undefined ? {} : { sinceMs: opts.sinceMs }),
    });
    const splitter = this.#splitter(record);
    return [...splitter.push(raw), ...splitter.end()];
  }

  /** Streams lines as they come; `close()` stops. `done` settles when the stream ends (container removed, engine gone). */
  async follow(
    record: ContainerRecord,
    opts: { tail?: number | undefined },
    onLine: (line: ContainerLogLine) => void,
  ): Promise<EventSubscription> {
    if (!record.dockerId) return { done: Promise.resolve(), close: () => {} };
    const splitter = this.#splitter(record);
    const sub = await this.#docker.followLogs(record.dockerId, { tail: opts.tail ?? 0 }, (chunk) => {
      for (const line of splitter.push(chunk)) onLine(line);
    });
    const done = sub.done.then(() => {
      for (const line of splitter.end()) onLine(line);
    });
    return { done, close: () => sub.close() };
  }

  #splitter(record: ContainerRecord): LogLineSplitter {
    const redactor = this.#redactors.forOwner(record.owner);
    return new LogLineSplitter({
      present: (raw, truncated) => presentOutputLine(raw, redactor, { truncated }),
    });
  }
}
