/**
 * How berth names a container's engine copy in cluster mode: `<nodeId>:<engine id>`.
 * A Swarm node id is lowercase letters and digits; an engine id is
 * hex digits (64 of them) — neither holds a colon, so the split is never ambiguous.
 */
export interface EngineHandle {
  nodeId: string;
  engineId: string;
}

const HANDLE = /^([a-z0-9]{1,64}):([a-z0-9]{1,128})$/;

export function engineHandle(nodeId: string, engineId: string): string {
  return `${nodeId}:${engineId}`;
}

/** The node and engine id of a handle; undefined for anything else (a bare engine id, a name). */
export function parseEngineHandle(text: string): EngineHandle | undefined {
  const m = HANDLE.exec(text);
  return m ? { nodeId: m[1]!, engineId: m[2]! } : undefined;
}
