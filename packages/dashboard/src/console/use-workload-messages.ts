import type { BerthClient } from "@berth/client";
import { useEffect, useState } from "preact/hooks";
import { describeError, type ErrorView } from "../errors/describe-error.ts";
import { addNewest, type BoundedList, emptyList } from "./bounded-list.ts";

/** One message the workload sent, as the console lists it. */
export interface WorkloadMessage {
  /** Counts up on this page: a key that stays with its message. */
  seq: number;
  ts: number;
  /** The data as indented JSON, cut at MAX_TEXT characters. */
  text: string;
}

/** How many messages the console keeps: the newest, so that a chatty workload cannot fill the tab's memory. */
export const KEEP_MESSAGES = 100;
/** How much of one message is shown: a frame may be a mebibyte, which nobody reads in a page. */
const MAX_TEXT = 10_000;

export interface WorkloadMessages extends BoundedList<WorkloadMessage> {
  listening: boolean;
  error?: ErrorView;
}

/**
 * The workload's own messages (`container:message`), newest first and
 * bounded, for as long as the component is mounted: the client SDK's
 * `onMessage` subscribes (and again after a reconnect) and unsubscribes
 * when the page goes.
 */
export function useWorkloadMessages(client: BerthClient, containerId: string): WorkloadMessages {
  const [list, setList] = useState(emptyList<WorkloadMessage>());
  const [listening, setListening] = useState(false);
  const [error, setError] = useState<ErrorView>();
  useEffect(() => {
    let closed = false;
    let seq = 0;
    let off: (() => void) | undefined;
    client.containers.get(containerId).then(
      (container) => {
        if (closed) return;
        const subscription = container.onMessage((data, event) => {
          const message = { seq: ++seq, ts: event.ts, text: asText(data) };
          setList((l) => addNewest(l, message, KEEP_MESSAGES));
        });
        off = subscription;
        subscription.ready.then(
          () => !closed && setListening(true),
          (err: unknown) => !closed && setError(describeError(err)),
        );
      },
      (err: unknown) => !closed && setError(describeError(err)),
    );
    return () => {
      closed = true;
      off?.();
    };
  }, [client, containerId]);
  return { ...list, listening, ...(error ? { error } : {}) };
}

function asText(data: unknown): string {
  const text = JSON.stringify(data, null, 2) ?? String(data);
  return text.length > MAX_TEXT
    ? `${text.slice(0, MAX_TEXT)}… (${text.length - MAX_TEXT} more characters)`
    : text;
}
