import type Dockerode from "dockerode";
import type { EventSubscription } from "./docker-client.ts";
import type { EngineCalls } from "./engine-calls.ts";
import { demuxLogs } from "./log-demux.ts";
import { toDockerError } from "./to-docker-error.ts";

/** The DockerClient's reads of a container's output over dockerode: a tail at once, read as it comes, or followed. */
export class DockerodeLogs {
  readonly #docker: Dockerode;
  readonly #calls: EngineCalls;

  constructor(docker: Dockerode, calls: EngineCalls) {
    this.#docker = docker;
    this.#calls = calls;
  }

  async lines(dockerId: string, tail: number, sinceMs?: number): Promise<string[]> {
    const raw = await this.#calls.run(
      "container logs",
      async () =>
        (await this.#docker.getContainer(dockerId).logs({
          stdout: true,
          stderr: true,
          tail,
          // "seconds.milliseconds": the engine parses a fraction (as `docker logs --since` sends it), where a
          // whole second would let in the last lines of a run that ended within the same second.
          ...(sinceMs === undefined ? {} : { since: (sinceMs / 1000).toFixed(3) as unknown as number }),
          follow: false,
        })) as unknown as Buffer,
      () => Buffer.alloc(0),
    );
    return demuxLogs(raw).map((l) => l.text);
  }

  async read(
    dockerId: string,
    opts: { tail: number; sinceMs?: number },
    onChunk: (chunk: Buffer) => void,
  ): Promise<void> {
    // As a stream, not dockerode's buffered `logs({ follow: false })`, which holds the engine's whole answer
    // (5,000 lines of up to 16 KiB: 80 MiB) before anyone looks at it; the caller keeps what it needs as it comes.
    const container = this.#docker.getContainer(dockerId);
    const stream = await this.#calls.run(
      "container logs",
      () =>
        new Promise<NodeJS.ReadableStream>((resolve, reject) => {
          container.modem.dial(
            {
              path: `/containers/${dockerId}/logs?`,
              method: "GET",
              isStream: true,
              statusCodes: { 200: true, 404: "no such container", 500: "server error" },
              options: {
                stdout: true,
                stderr: true,
                timestamps: true,
                tail: opts.tail,
                ...(opts.sinceMs === undefined ? {} : { since: Math.floor(opts.sinceMs / 1000) }),
                follow: false,
              },
            },
            (err: unknown, data: NodeJS.ReadableStream) => (err ? reject(err) : resolve(data)),
          );
        }),
      () => undefined,
    );
    if (!stream) return;
    await new Promise<void>((resolve, reject) => {
      stream.on("data", (chunk: Buffer) => onChunk(chunk));
      stream.on("end", () => resolve());
      stream.on("close", () => resolve());
      stream.on("error", (err: unknown) => reject(toDockerError(err, "container logs")));
    });
  }

  async follow(
    dockerId: string,
    opts: { tail: number } | { sinceMs: number },
    onChunk: (chunk: Buffer) => void,
  ): Promise<EventSubscription> {
    const abort = new AbortController();
    const stream = (await this.#calls.run("container logs", () =>
      this.#docker.getContainer(dockerId).logs({
        stdout: true,
        stderr: true,
        timestamps: true,
        ...("sinceMs" in opts ? { since: Math.floor(opts.sinceMs / 1000) } : { tail: opts.tail }),
        follow: true,
        abortSignal: abort.signal,
      }),
    )) as unknown as NodeJS.ReadableStream;
    const done = new Promise<void>((resolve) => {
      stream.on("data", (chunk: Buffer) => onChunk(chunk));
      stream.on("end", () => resolve());
      stream.on("close", () => resolve());
      // A follow that breaks (engine restart) just ends; the client is told by the stream's end.
      stream.on("error", () => resolve());
    });
    return { done, close: () => abort.abort() };
  }
}
