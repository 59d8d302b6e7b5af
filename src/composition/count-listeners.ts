import type { EventEmitter } from "node:events";

/** Listeners on the emitters given, all events together. */
export function countListeners(emitters: readonly EventEmitter[]): number {
  let listeners = 0;
  for (const emitter of emitters)
    for (const event of emitter.eventNames()) listeners += emitter.listenerCount(event);
  return listeners;
}
