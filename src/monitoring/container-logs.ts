import type { DockerClient, EventSubscription } from "../docker/docker-client.ts";
import type { Redactor } from "../logging/redactor.ts";
import type { ContainerRecord } from "../store/container-repository.ts";
import { type ContainerLogLine, LogLineSplitter } from "./log-line-splitter.ts";

export const DEFAULT_LOG_TAIL = 100;
export const MAX_LOG_TAIL = 5_000;

/**
 * A workload's output as clients see it: demultiplexed into stdout and stderr
 * lines with timestamps, sanitised (no escape sequences or raw control
 * characters) and redacted. Lines are assembled whole before the redactor
 * sees them, so a secret that the workload wrote in two pieces — or that the
 * engine delivered across two chunks — is still caught.
 */
export class ContainerLogs {
  readonly #docker: DockerClient;
  readonly #redactor: Redactor;

  constructor(docker: DockerClient, redactor: Redactor) {
    this.#docker = docker;
    this.#redactor = redactor;
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
    const splitter = new LogLineSplitter();
    return [...splitter.push(raw), ...splitter.end()].map((l) => this.#redact(l));
  }

  /** Streams lines as they come; `close()` stops. `done` settles when the stream ends (container removed, engine gone). */
  async follow(
    record: ContainerRecord,
    opts: { tail?: number | undefined },
    onLine: (line: ContainerLogLine) => void,
  ): Promise<EventSubscription> {
    if (!record.dockerId) return { done: Promise.resolve(), close: () => {} };
    const splitter = new LogLineSplitter();
    const sub = await this.#docker.followLogs(record.dockerId, { tail: opts.tail ?? 0 }, (chunk) => {
      for (const line of splitter.push(chunk)) onLine(this.#redact(line));
    });
    const done = sub.done.then(() => {
      for (const line of splitter.end()) onLine(this.#redact(line));
    });
    return { done, close: () => sub.close() };
  }

  #redact(line: ContainerLogLine): ContainerLogLine {
    return { stream: line.stream, ts: line.ts, text: this.#redactor.redactString(line.text) };
  }
}
