import type { Container } from "@berth/client";
import { useLayoutEffect, useRef, useState } from "preact/hooks";
import { splitMatches } from "./highlight.ts";
import { outputFileName, outputText } from "./output-file.ts";
import { useLiveOutput } from "./use-live-output.ts";

interface Props {
  container: Container | undefined;
  name: string;
}

/**
 * The container's output, live: pause (new lines are held and counted, and
 * shown on resume), search (the lines containing the text, the matches
 * marked), download (the lines shown, as a file). Every line is text: a
 * workload's output never becomes markup. The list keeps to its bottom
 * while the reader is there, and stays put once they scroll up.
 */
export function LiveOutput({ container, name }: Props) {
  const output = useLiveOutput(container);
  const [query, setQuery] = useState("");
  const scroller = useRef<HTMLElement>(null);
  const atBottom = useRef(true);
  const { buffer } = output;
  const shown = buffer.matching(query);

  useLayoutEffect(() => {
    const el = scroller.current;
    if (el && atBottom.current) el.scrollTop = el.scrollHeight;
  }, [output.version, query]);

  const download = () => {
    const blob = new Blob([outputText(shown)], { type: "text/plain;charset=utf-8" });
    // A Blob URL, not a data: one: no size limit, and the CSP's img-src/connect-src are not involved
    // (a download is a navigation, which this CSP does not restrict).
    const url = URL.createObjectURL(blob);
    const link = document.createElement("a");
    link.href = url;
    link.download = outputFileName(name, Date.now());
    link.click();
    // Not at once: some browsers read the URL a moment after the click. A minute later the download has
    // long taken the Blob, and the page lets go of its memory.
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  };

  return (
    <section class="output" aria-labelledby="output-heading">
      <h2 id="output-heading">Output</h2>
      <div class="output-tools">
        {/* One button whose word changes: the focus stays on it across a pause and a resume. */}
        <button type="button" onClick={buffer.paused ? output.resume : output.pause}>
          {buffer.paused ? "Resume" : "Pause"}
        </button>
        <label>
          Search
          <input
            type="search"
            value={query}
            autocomplete="off"
            spellcheck={false}
            onInput={(e) => setQuery(e.currentTarget.value)}
          />
        </label>
        <button type="button" onClick={download} disabled={shown.length === 0}>
          Download
        </button>
      </div>
      {/* Only the pause and the resume are announced: counts that change with every line would talk over everything. */}
      <p class="output-status" data-held={buffer.held}>
        <span role="status">{buffer.paused ? "Paused." : "Following live."}</span>{" "}
        {buffer.paused &&
          `${buffer.held} new ${buffer.held === 1 ? "line" : "lines"} held, shown on resume. `}
        {query === ""
          ? `${buffer.lines.length} ${buffer.lines.length === 1 ? "line" : "lines"} shown`
          : `${shown.length} of ${buffer.lines.length} lines match`}
        {buffer.dropped > 0 ? ` (the page keeps the newest ${buffer.keep}).` : "."}
      </p>
      {output.error && (
        <p class="error" role="alert">
          The output could not be followed: {output.error}
        </p>
      )}
      <section
        class="output-lines"
        aria-label="Output lines"
        // biome-ignore lint/a11y/noNoninteractiveTabindex: it scrolls on its own, so it takes the keyboard's focus, or a keyboard could not scroll it (axe: scrollable-region-focusable)
        tabIndex={0}
        ref={scroller}
        onScroll={(e) => {
          const el = e.currentTarget;
          atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 8;
        }}
      >
        <ol>
          {shown.map((line) => (
            <li key={line.seq} class={`line-${line.stream}`} data-stream={line.stream}>
              <time dateTime={new Date(line.ts).toISOString()}>{new Date(line.ts).toLocaleTimeString()}</time>{" "}
              <span class="line-text">
                {splitMatches(line.text, query).map((part, i) =>
                  part.match ? <mark key={i}>{part.text}</mark> : part.text,
                )}
              </span>
            </li>
          ))}
        </ol>
      </section>
    </section>
  );
}
