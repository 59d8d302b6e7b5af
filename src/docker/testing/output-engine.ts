import type { EventSubscription } from "../docker-client.ts";
import { FakeDockerClient } from "./fake-docker-client.ts";

/** An engine whose reads and follows of output are driven by the test. */
export class OutputEngine extends FakeDockerClient {
  read: ((onChunk: (chunk: Buffer) => void) => Promise<void>) | undefined;
  follows: Array<{ onChunk: (chunk: Buffer) => void; end: () => void; closed: boolean }> = [];

  override async readLogs(
    dockerId: string,
    _opts: { tail: number; sinceMs?: number },
    onChunk: (chunk: Buffer) => void,
  ): Promise<void> {
    await super.readLogs(dockerId);
    await this.read?.(onChunk);
  }

  override async followLogs(
    dockerId: string,
    _opts: { tail: number } | { sinceMs: number },
    onChunk: (chunk: Buffer) => void,
  ): Promise<EventSubscription> {
    await super.followLogs(dockerId);
    let end!: () => void;
    const done = new Promise<void>((resolve) => {
      end = resolve;
    });
    const follow = { onChunk, end, closed: false };
    this.follows.push(follow);
    return {
      done,
      close: () => {
        follow.closed = true;
        end();
      },
    };
  }
}
