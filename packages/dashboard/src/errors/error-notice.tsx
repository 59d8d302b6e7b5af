import type { ErrorView } from "./describe-error.ts";
import "./error-notice.css";

interface Props {
  /** What failed, in words that complete "… failed": "Stopping dash-bot", "The request". */
  what: string;
  error: ErrorView;
  onDismiss?: () => void;
}

/**
 * A failure: berth's code and message (already redacted by berth; shown as
 * text), what to do about it, and the workload's last output when berth sent
 * it — announced as it appears.
 */
export function ErrorNotice({ what, error, onDismiss }: Props) {
  return (
    <div class="error action-error" role="alert" data-code={error.code}>
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
      {onDismiss && (
        <button type="button" class="link-button" onClick={onDismiss}>
          Dismiss
        </button>
      )}
    </div>
  );
}
