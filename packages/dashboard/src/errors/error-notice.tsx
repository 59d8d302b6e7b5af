import type { ErrorView } from "./describe-error.ts";
import "./error-notice.css";

interface Props {
  /** What failed, in words that complete "… failed": "The request", "Rolling back to release 1". */
  what: string;
  error: ErrorView;
}

/** A failure: what failed, berth's code and message (as text), what to do about it, and the workload's last output if any. */
export function ErrorNotice({ what, error }: Props) {
  return (
    <div class="error" role="alert" data-code={error.code}>
      <p>
        <strong>{what} failed</strong> ({error.code}): {error.message}
      </p>
      <p class="fix">{error.fix}</p>
      {error.output && error.output.length > 0 && (
        <>
          <p>The workload's last output:</p>
          {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a region that may scroll takes the keyboard's focus (axe: scrollable-region-focusable) */}
          <pre class="output" tabIndex={0}>
            {error.output.join("\n")}
          </pre>
        </>
      )}
    </div>
  );
}
