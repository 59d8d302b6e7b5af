import type { EngineEvent } from "./docker-client.ts";

/**
 * Reading what the engine sends into berth's own shapes: one line of its
 * event stream, an image's labels and command. The engine is not trusted to
 * send what its API promises (an image is anyone's to build).
 */

/** One line of the engine's event stream as an EngineEvent; undefined for a blank, broken or foreign line. */
export function parseEngineEvent(line: string): EngineEvent | undefined {
  if (line.trim() === "") return undefined;
  try {
    const raw = JSON.parse(line) as {
      Action?: string;
      Actor?: { ID?: string; Attributes?: Record<string, string> };
      timeNano?: number;
      time?: number;
    };
    if (!raw.Action || !raw.Actor?.ID) return undefined;
    const attributes = raw.Actor.Attributes ?? {};
    const event: EngineEvent = {
      action: raw.Action,
      dockerId: raw.Actor.ID,
      labels: attributes,
      time: raw.timeNano ? Math.floor(raw.timeNano / 1e6) : (raw.time ?? 0) * 1000,
    };
    if (attributes.exitCode !== undefined) event.exitCode = Number(attributes.exitCode);
    return event;
  } catch {
    return undefined;
  }
}

/** The engine's `label` filter for objects that carry every one of `labels`. */
export function labelFilters(labels: Record<string, string>): string[] {
  return Object.entries(labels).map(([k, v]) => `${k}=${v}`);
}

/** Only string values: an image is anyone's to build, and its labels are read as untrusted. */
export function labelsOf(value: unknown): Record<string, string> {
  const labels: Record<string, string> = {};
  if (value === null || typeof value !== "object") return labels;
  for (const [key, v] of Object.entries(value)) if (typeof v === "string") labels[key] = v;
  return labels;
}

/** An image's Entrypoint or Cmd: a list, a string (in images built long ago), or nothing. */
export function stringsOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === "string");
  return typeof value === "string" && value !== "" ? [value] : [];
}
