import { MAX_SPEC_VALUE_LENGTH } from "#protocol";
import type { Redactor } from "../logging/redactor.ts";
import { cutLine } from "../logging/sanitize-log-line.ts";

/**
 * One env value or command argument of a spec as berth shows it: redacted
 * with the owner's redactor, and cut to MAX_SPEC_VALUE_LENGTH (ending with
 * ` …[truncated]`) when longer. As with a cut log line (presentOutputLine),
 * only the part that can be shown is looked at — a 32 KiB value costs what
 * 1 KiB does — and it is redacted *before* the cut, with the redactor's
 * open-end handling, so a secret of the owner's that the cut splits (its
 * beginning kept, its end dropped) is hidden too rather than shown in part.
 *
 * @example
 *   shownSpecValue("x".repeat(5_000), redactor); // { text: "xxx… …[truncated]" (1,024 long), cut: true }
 */
export function shownSpecValue(raw: string, redactor: Redactor): { text: string; cut: boolean } {
  if (raw.length <= MAX_SPEC_VALUE_LENGTH) {
    const text = redactor.redactString(raw);
    // Many short secrets, each replaced by the longer [REDACTED], can make a value longer: cut after the fact.
    return text.length <= MAX_SPEC_VALUE_LENGTH
      ? { text, cut: false }
      : { text: cutLine(text, MAX_SPEC_VALUE_LENGTH), cut: true };
  }
  const high = raw.charCodeAt(MAX_SPEC_VALUE_LENGTH - 1);
  const end = high >= 0xd800 && high <= 0xdbff ? MAX_SPEC_VALUE_LENGTH - 1 : MAX_SPEC_VALUE_LENGTH;
  const redacted = redactor.redactString(raw.slice(0, end), { openEnd: true });
  return { text: cutLine(redacted, MAX_SPEC_VALUE_LENGTH), cut: true };
}
