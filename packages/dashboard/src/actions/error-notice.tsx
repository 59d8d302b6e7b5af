import type { ErrorView } from "./describe-error.ts";

interface Props {
  /** What failed, e.g. "Stopping dash-bot". */
  what: string;
  error: ErrorView;
  onDismiss?: () => void;
}

/** A failed action: berth's message (already redacted by berth) and what to do about it, announced as it appears. */
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
          <pre class="output">{error.output.join("\n")}</pre>
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
