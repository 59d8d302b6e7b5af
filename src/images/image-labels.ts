import { PROTOCOL_VERSION } from "../channel/protocol.ts";
import { type BerthImageLabels, readImageLabels } from "../containers/image-labels.ts";
import { sanitizeLogLine } from "../logging/sanitize-log-line.ts";

/** berth's labels on an image, as a create reads them, and what is wrong with them in words for an operator. */
export interface CheckedImageLabels extends BerthImageLabels {
  problems: string[];
}

/**
 * Reads an image's berth labels exactly as a create does (a malformed one
 * counts as absent) and, where a create would only log a warning, names each
 * problem for `berth image check` to report — with a protocol that berth does
 * not speak among them, which a create refuses.
 *
 * @example
 *   readCheckedLabels({ "berth.runtime": "ruby" }).problems;
 *   // → ["berth.runtime is 'ruby': not a runtime berth knows (node, python)"]
 */
export function readCheckedLabels(all: Readonly<Record<string, string>>): CheckedImageLabels {
  const problems: string[] = [];
  const labels = readImageLabels(all, ({ label, reason }) =>
    problems.push(`${label} is '${quoted(all[label] ?? "")}': ${reason}`),
  );
  if (labels.protocol !== undefined && labels.protocol !== PROTOCOL_VERSION) {
    problems.push(
      `berth.protocol says the image's SDK speaks protocol ${labels.protocol}; this berth speaks ${PROTOCOL_VERSION}`,
    );
  }
  return { ...labels, problems };
}

/**
 * An image's text (a label's value, its command) echoed in a message:
 * sanitised and cut, since an image is anyone's to build — so that one value
 * cannot drown the rest of the message, nor carry a terminal's escape
 * sequence. (The report sanitises and cuts each whole message again.)
 *
 * @example quoted("\x1b]52;c;aGk=\x07python") // → "python"
 */
export function quoted(text: string, max = 80): string {
  // Bounded before the scan: a label or CMD may hold megabytes.
  return sanitizeLogLine(text.length > max * 4 ? text.slice(0, max * 4) : text, {
    maxLength: max,
    truncated: text.length > max * 4,
  });
}
