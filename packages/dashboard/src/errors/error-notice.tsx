import type { ErrorFacts } from "./error-fix.ts";

interface Props {
  facts: ErrorFacts;
  /** What failed, in words that complete "… failed": "The request", "Rolling back to release 1". */
  what: string;
}

/** A failure as the dashboard shows it: what failed, berth's code and message (as text), and what to do about it. */
export function ErrorNotice({ facts, what }: Props) {
  return (
    <div class="error" role="alert" data-error-code={facts.code}>
      <p>
        {what} failed: <code>{facts.code}</code> {facts.message}
      </p>
      {facts.fix && <p class="fix">{facts.fix}</p>}
    </div>
  );
}
