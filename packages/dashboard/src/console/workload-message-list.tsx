import type { BerthClient } from "@berth/client";
import { ErrorNotice } from "../errors/error-notice.tsx";
import { formatTime } from "../format.ts";
import { KEEP_MESSAGES, useWorkloadMessages } from "./use-workload-messages.ts";

interface Props {
  client: BerthClient;
  containerId: string;
}

/** The workload's own messages as they come, newest first, the last KEEP_MESSAGES of them; each shown as text. */
export function WorkloadMessageList({ client, containerId }: Props) {
  const messages = useWorkloadMessages(client, containerId);
  return (
    <section class="workload-messages" aria-labelledby="workload-messages-heading">
      <h3 id="workload-messages-heading">Messages from the workload</h3>
      {messages.error && <ErrorNotice what="Listening to the workload's messages" error={messages.error} />}
      <p class="hint">
        {messages.items.length === 0
          ? messages.listening
            ? "Listening; none yet."
            : "Starting to listen…"
          : `The newest first; this page keeps the last ${KEEP_MESSAGES}.`}
        {messages.dropped > 0 && ` ${messages.dropped} older ones were let go.`}
      </p>
      <ol class="message-list" data-listening={messages.listening}>
        {messages.items.map((m) => (
          <li key={m.seq}>
            <time dateTime={new Date(m.ts).toISOString()}>{formatTime(m.ts)}</time>
            <pre class="message-data">{m.text}</pre>
          </li>
        ))}
      </ol>
    </section>
  );
}
