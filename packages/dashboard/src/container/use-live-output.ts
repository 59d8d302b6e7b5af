import type { Container } from "@berth/client";
import { useEffect, useMemo, useState } from "preact/hooks";
import { LineBuffer } from "./line-buffer.ts";

/** The lines berth gives first when the page opens: the recent past, before the live lines. */
const TAIL = 200;

export interface LiveOutput {
  buffer: LineBuffer;
  /** Bumped on every change of the buffer: what the component renders by. */
  version: number;
  /** Why following stopped, in plain words. */
  error?: string;
  pause(): void;
  resume(): void;
  clear(): void;
}

/**
 * The container's output, followed live (`followLogs`, which goes on by
 * itself across reconnects, restarts and updates) into a bounded LineBuffer.
 * Lines that come together render together: one render per animation frame
 * at most, however fast the workload prints.
 */
export function useLiveOutput(container: Container | undefined): LiveOutput {
  const buffer = useMemo(() => new LineBuffer(), [container]);
  const [version, setVersion] = useState(0);
  const [error, setError] = useState<string>();
  useEffect(() => {
    if (!container) return;
    let frame: number | undefined;
    const changed = () => {
      frame ??= requestAnimationFrame(() => {
        frame = undefined;
        setVersion((v) => v + 1);
      });
    };
    const follow = container.followLogs({ tail: TAIL, bufferSize: 5_000 });
    void (async () => {
      try {
        for await (const line of follow) {
          buffer.push(line);
          changed();
        }
      } catch (err) {
        setError(err instanceof Error ? err.message : "the output could not be followed");
      }
    })();
    return () => {
      if (frame !== undefined) cancelAnimationFrame(frame);
      void follow.return();
    };
  }, [container, buffer]);
  const bump = () => setVersion((v) => v + 1);
  return {
    buffer,
    version,
    ...(error === undefined ? {} : { error }),
    pause: () => {
      buffer.pause();
      bump();
    },
    resume: () => {
      buffer.resume();
      bump();
    },
    clear: () => {
      buffer.clear();
      bump();
    },
  };
}
