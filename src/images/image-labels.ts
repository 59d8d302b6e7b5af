import { PROTOCOL_VERSION } from "../channel/protocol.ts";
import { type BerthImageLabels, readImageLabels } from "../containers/image-labels.ts";

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
    problems.push(`${label} is '${cut(all[label] ?? "")}': ${reason}`),
  );
  if (labels.protocol !== undefined && labels.protocol !== PROTOCOL_VERSION) {
    problems.push(
      `berth.protocol says the image's SDK speaks protocol ${labels.protocol}; this berth speaks ${PROTOCOL_VERSION}`,
    );
  }
  return { ...labels, problems };
}

/** A label's value echoed in a message, cut: an image's labels are anyone's text. */
function cut(text: string, max = 80): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
