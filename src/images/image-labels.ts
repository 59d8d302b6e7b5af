import { PROTOCOL_VERSION } from "../channel/protocol.ts";
import { checkCodePath } from "../containers/code-files.ts";

/** The runtimes berth has images and probes for (the `berth.runtime` label). */
export const RUNTIMES = ["node", "python"] as const;
export type Runtime = (typeof RUNTIMES)[number];

/**
 * What berth reads of an image's own labels: `berth.runtime`, `berth.entry`
 * (the entry file, relative to the code's root, that the default command
 * runs), `berth.command` (that command, as a JSON array) and
 * `berth.protocol` (the channel protocol its SDK speaks). Each is undefined
 * when the image lacks it — a custom image may have none, and an empty value
 * counts as none: an image cannot drop the labels of the image it is built
 * FROM, only set them to "" — and a label that is there but makes no sense
 * is named in `problems` instead.
 *
 * Kept apart from the image catalog so that it can move into ImageFacts
 * once the catalog reads labels itself.
 *
 * @example
 *   const labels = readBerthLabels({ "berth.runtime": "python", "berth.entry": "main.py" });
 *   labels.runtime; // "python"
 */
export interface BerthImageLabels {
  runtime?: Runtime;
  entry?: string;
  command?: string[];
  protocol?: number;
  problems: string[];
}

export function readBerthLabels(all: Record<string, string>): BerthImageLabels {
  const labels = Object.fromEntries(Object.entries(all).filter(([, v]) => v !== ""));
  const out: BerthImageLabels = { problems: [] };
  const runtime = labels["berth.runtime"];
  if (runtime !== undefined) {
    if ((RUNTIMES as readonly string[]).includes(runtime)) out.runtime = runtime as Runtime;
    else
      out.problems.push(
        `berth.runtime is '${cut(runtime)}'; berth knows ${RUNTIMES.join(" and ")} (leave the label out for another)`,
      );
  }
  const entry = labels["berth.entry"];
  if (entry !== undefined) {
    const problem = checkCodePath(entry);
    if (problem === undefined) out.entry = entry;
    else
      out.problems.push(
        `berth.entry is '${cut(entry)}', which ${problem}; it must be a file's path relative to the code's root, such as main.py`,
      );
  }
  const command = labels["berth.command"];
  if (command !== undefined) {
    const parsed = parseCommand(command);
    if (parsed) out.command = parsed;
    else
      out.problems.push(
        `berth.command is '${cut(command)}'; it must be a JSON array of strings, such as ["python3","main.py"]`,
      );
  }
  const protocol = labels["berth.protocol"];
  if (protocol !== undefined) {
    if (/^[1-9][0-9]{0,5}$/.test(protocol)) out.protocol = Number(protocol);
    else out.problems.push(`berth.protocol is '${cut(protocol)}'; it must be a whole number, such as 1`);
    if (out.protocol !== undefined && out.protocol !== PROTOCOL_VERSION)
      out.problems.push(
        `berth.protocol says the image's SDK speaks protocol ${out.protocol}; this berth speaks ${PROTOCOL_VERSION}`,
      );
  }
  return out;
}

function parseCommand(text: string): string[] | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === "string"))
      return value as string[];
  } catch {
    // not JSON: reported by the caller
  }
  return undefined;
}

/** A label's value echoed in a message, cut: an image's labels are anyone's text. */
function cut(text: string, max = 80): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
