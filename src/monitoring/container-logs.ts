import type { LogLine } from "#protocol";
import type { DockerClient, EventSubscription } from "../docker/docker-client.ts";
import { presentOutputLine } from "../logging/present-output-line.ts";
import type { OwnerRedactors } from "../logging/secret-registry.ts";
import type { ContainerRecord } from "../store/store-ports.ts";
import { LogLineSplitter } from "./log-line-splitter.ts";
import { NewestLines } from "./newest-lines.ts";

export const DEFAULT_LOG_TAIL = 100;
export const MAX_LOG_TAIL = 5_000;
/**
 * The most one `container:logs` answer carries, in bytes of its lines as sent: 5,000 lines of up to
 * 16 KiB would be 80 MiB, held for the whole time the answer takes to build and send. 4 MiB is a few
 * thousand lines of ordinary output — what a reader of a tail looks at — and keeps a connection's reads
 * in flight (at most MAX_READS_IN_FLIGHT) to 16 MiB, within its buffer bound.
 */
export const MAX_LOG_ANSWER_BYTES = 4 * 1024 * 1024;

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

  /**
   * The last `tail` lines (since `sinceMs`), the newest that fit in `maxBytes`; `truncated` when older
   * ones were left out for it.
   */
  async recent(
    record: ContainerRecord,
    opts: { tail?: number | undefined; sinceMs?: number | undefined },
    maxBytes = MAX_LOG_ANSWER_BYTES,
  ): Promise<{ lines: LogLine[]; truncated: boolean }> {
    if (!record.dockerId) return { lines: [], truncated: false };
    const splitter = this.#splitter(record);
    const newest = new NewestLines(maxBytes);
    await this.#docker.readLogs(
      record.dockerId,
      {
        tail: opts.tail ?? DEFAULT_LOG_TAIL,
        ...(opts.sinceMs === undefined ? {} : { sinceMs: opts.sinceMs }),
      },
      (chunk) => newest.add(splitter.push(chunk)),
    );
    newest.add(splitter.end());
    return newest.result();
  }

  /** Streams lines as they come; `close()` stops. `done` settles when the stream ends (container removed, engine gone). */
  async follow(
    record: ContainerRecord,
    opts: { tail?: number | undefined },
    onLine: (line: LogLine) => void,
  ): Promise<EventSubscription> {
    if (!record.dockerId) return { done: Promise.resolve(), close: () => {} };
    const splitter = this.#splitter(record);
    // New lines only: asked as "since now", not "tail 0". The engine answers a follow before it
    // watches the log file, and with tail 0 it starts at the file's end as it finds it then, so a
    // line written in between was lost (a workload told to print right after a follow began).
    // "since" reaches back to the whole second; the lines from before `from` are dropped here.
    const tail = opts.tail ?? 0;
    const from = Date.now();
    const keep = tail > 0 ? () => true : (line: LogLine) => line.ts >= from;
    const deliver = (lines: LogLine[]) => {
      for (const line of lines) if (keep(line)) onLine(line);
    };
    const sub = await this.#docker.followLogs(
      record.dockerId,
      tail > 0 ? { tail } : { sinceMs: from },
      (chunk) => deliver(splitter.push(chunk)),
    );
    const done = sub.done.then(() => deliver(splitter.end()));
    return { done, close: () => sub.close() };
  }

  #splitter(record: ContainerRecord): LogLineSplitter {
    const redactor = this.#redactors.forOwner(record.owner);
    return new LogLineSplitter({
      present: (raw, truncated) => presentOutputLine(raw, redactor, { truncated }),
    });
  }
}
