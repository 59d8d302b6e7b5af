import type { Runtime } from "#protocol";
import { isRuntime } from "../config/runtime-images.ts";

/** The labels berth reads on an image (runtime images carry all four; a custom image may carry none). */
export const IMAGE_LABELS = {
  runtime: "berth.runtime",
  entry: "berth.entry",
  command: "berth.command",
  protocol: "berth.protocol",
} as const;

/** What an image's labels tell berth, each checked: a label that is malformed is as good as absent. */
export interface BerthImageLabels {
  /** `berth.runtime`: the runtime the image is for. */
  runtime?: Runtime;
  /** `berth.entry`: the file, relative to the code's root, that the default command runs. */
  entry?: string;
  /** `berth.command`: the default command (a JSON array of strings), equal to the image's CMD. */
  command?: string[];
  /** `berth.protocol`: the channel protocol version the image's workload SDK speaks. */
  protocol?: number;
}

/** A label berth could not use, and why, for a warning in the system log (never for a client). */
export interface MalformedLabel {
  label: string;
  reason: string;
}

const MAX_COMMAND_LABEL = 16_384;
// A plain relative path: no leading '/', no '.' or '..' segment, no empty segment, no control character.
const ENTRY_SEGMENT = /^[A-Za-z0-9_@+-][A-Za-z0-9_.@+-]*$/;

/**
 * Reads berth's labels from an image's labels. An image is anyone's to build,
 * so each value is checked before berth uses it (in a create, in an error
 * message): one that fails is left out and reported through `onMalformed`,
 * and nothing throws.
 *
 * @example readImageLabels({ "berth.runtime": "python", "berth.entry": "main.py" }, () => {})
 *   // → { runtime: "python", entry: "main.py" }
 */
export function readImageLabels(
  labels: Readonly<Record<string, string>>,
  onMalformed: (problem: MalformedLabel) => void,
): BerthImageLabels {
  const out: BerthImageLabels = {};
  const take = <K extends keyof BerthImageLabels>(
    key: K,
    parse: (value: string) => Parsed<BerthImageLabels[K]>,
  ) => {
    const label = IMAGE_LABELS[key];
    const value = labels[label];
    // "" counts as absent: an image cannot drop a label of the image it is built FROM, only empty it.
    if (value === undefined || value === "") return;
    const parsed = parse(value);
    if (parsed.ok) out[key] = parsed.value;
    else onMalformed({ label, reason: parsed.problem });
  };
  take("runtime", (v) => (isRuntime(v) ? ok(v) : problem("not a runtime berth knows (node, python)")));
  take("entry", parseEntry);
  take("command", parseCommand);
  take("protocol", (v) =>
    /^[1-9]\d{0,5}$/.test(v) ? ok(Number(v)) : problem("not a positive whole number"),
  );
  return out;
}

type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string };
const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const problem = <T>(text: string): Parsed<T> => ({ ok: false, problem: text });

function parseEntry(value: string): Parsed<string> {
  if (value.length === 0 || value.length > 255) return problem("not 1 to 255 characters");
  const segments = value.split("/");
  if (segments.some((s) => !ENTRY_SEGMENT.test(s) || s === "." || s === "..")) {
    return problem("not a plain path relative to the code's root");
  }
  return ok(value);
}

function parseCommand(value: string): Parsed<string[]> {
  if (value.length > MAX_COMMAND_LABEL) return problem(`longer than ${MAX_COMMAND_LABEL} characters`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return problem("not JSON");
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length === 0 ||
    parsed.length > 256 ||
    !parsed.every((a) => typeof a === "string" && a.length <= 4096)
  ) {
    return problem("not a JSON array of 1 to 256 strings");
  }
  return ok(parsed as string[]);
}
