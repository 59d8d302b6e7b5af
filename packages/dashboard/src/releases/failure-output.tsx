import type { BerthClient, ReleaseInfo } from "@berth/client";
import { useState } from "preact/hooks";
import { describeError } from "../errors/describe-error.ts";
import type { ReleaseFailure } from "./release-rows.ts";

interface Props {
  client: BerthClient;
  containerId: string;
  release: ReleaseInfo;
  failure: ReleaseFailure;
}

/** Lines read back from the container's log for one failed update: at most this many, the last ones. */
const TAIL = 100;

type Output = { state: "closed" } | { state: "loading" } | { state: "shown"; lines: string[]; note: string };

/**
 * The last output lines of a failed release, shown as text when the reader
 * opens it. The lines the feed kept with the failure, when it did; otherwise
 * berth's log of the container from the release's upload to the moment it
 * was given up (read on opening, not for every release on every load), which
 * may end with the first lines of the release put back.
 */
export function FailureOutput({ client, containerId, release, failure }: Props) {
  const [output, setOutput] = useState<Output>(
    failure.output ? { state: "shown", lines: failure.output, note: "" } : { state: "closed" },
  );
  const open = async () => {
    if (output.state !== "closed") return;
    setOutput({ state: "loading" });
    try {
      const { lines } = await client.call("container:logs", {
        id: containerId,
        since: release.createdAt,
        tail: TAIL,
      });
      const kept = lines.filter((l) => l.ts <= failure.ts).map((l) => l.text);
      setOutput({
        state: "shown",
        lines: kept,
        note: "From the container's log, from the upload of this release until berth had put the previous one back: the last lines may be the previous release's.",
      });
    } catch (err) {
      const { code, message } = describeError(err);
      setOutput({ state: "shown", lines: [], note: `The output could not be read (${code}): ${message}` });
    }
  };
  return (
    <details class="failure-output" onToggle={(e) => e.currentTarget.open && void open()}>
      <summary>Last output of release {release.number}</summary>
      {output.state === "loading" && <p role="status">Reading the output…</p>}
      {output.state === "shown" && (
        <>
          {output.note && <p class="note">{output.note}</p>}
          {output.lines.length === 0 ? (
            <p>berth kept no output of this release.</p>
          ) : (
            // A region that may scroll takes the keyboard's focus (axe: scrollable-region-focusable).
            // biome-ignore lint/a11y/noNoninteractiveTabindex: see above
            <pre class="output" tabIndex={0}>
              {output.lines.join("\n")}
            </pre>
          )}
        </>
      )}
    </details>
  );
}
