import type { BerthClient, ContainerInfo } from "@berth/client";
import { useRef, useState } from "preact/hooks";
import { describeError, type ErrorView } from "../errors/describe-error.ts";
import { ErrorNotice } from "../errors/error-notice.tsx";
import { checkJson, type JsonCheck } from "./json-check.ts";
import { payloadProblem } from "./payload-limit.ts";
import { WorkloadMessageList } from "./workload-message-list.tsx";
import "./console.css";

interface Props {
  client: BerthClient;
  info: ContainerInfo;
}

type Kind = "request" | "message";

/** What the last send gave: the answer (requests) and the latency measured here, or the error. */
type Outcome =
  | { state: "sending"; kind: Kind }
  | { state: "answered"; kind: Kind; text: string; ms: number }
  | { state: "failed"; kind: Kind; error: ErrorView; ms: number };

/** berth's own default wait for a request's answer, where the field is left empty. */
const DEFAULT_TIMEOUT_MS = 5_000;

/**
 * The container page's message console: JSON to send as a request (and its
 * answer) or a one-way message, checked before it goes — where the text
 * stops being JSON, and whether it fits in one of berth's messages — with
 * the latency measured in the page (send to answer, as the person waits),
 * an error's code, message and fix; and the workload's own messages as they
 * come, newest first.
 */
export function MessageConsole({ client, info }: Props) {
  const [kind, setKind] = useState<Kind>("request");
  const [text, setText] = useState('{\n  "hello": "berth"\n}');
  const [timeoutMs, setTimeoutMs] = useState(String(DEFAULT_TIMEOUT_MS));
  const [checked, setChecked] = useState<JsonCheck>(() => checkJson(text));
  const [outcome, setOutcome] = useState<Outcome>();
  const dataField = useRef<HTMLTextAreaElement>(null);
  const timeoutField = useRef<HTMLInputElement>(null);
  const { maxRequestTimeoutMs } = client.info.limits;

  const problem = !checked.ok
    ? `Not valid JSON at line ${checked.line}, column ${checked.column} (character ${checked.offset + 1}): ${checked.message}.`
    : payloadProblem(checked.bytes, client.info.limits);
  const timeout = Number(timeoutMs);
  const timeoutProblem =
    kind === "request" && (!Number.isInteger(timeout) || timeout < 1 || timeout > maxRequestTimeoutMs)
      ? `The timeout is a whole number of milliseconds from 1 to ${maxRequestTimeoutMs}.`
      : undefined;

  const send = async (e: Event) => {
    e.preventDefault();
    if (outcome?.state === "sending") return;
    if (!checked.ok || problem || timeoutProblem) {
      // Nothing is sent; the field that is wrong takes the focus, and a screen reader reads its error with it.
      (problem ? dataField : timeoutField).current?.focus();
      return;
    }
    const sentKind = kind;
    setOutcome({ state: "sending", kind: sentKind });
    let t0 = performance.now();
    try {
      const container = await client.containers.get(info.id);
      // The handle is asked for before the clock starts counting what the person waits for the workload.
      t0 = performance.now();
      if (sentKind === "request") {
        const answer = await container.request(checked.value, { timeoutMs: timeout });
        const ms = performance.now() - t0;
        setOutcome({
          state: "answered",
          kind: sentKind,
          text: JSON.stringify(answer, null, 2) ?? "undefined",
          ms,
        });
      } else {
        await container.send(checked.value);
        setOutcome({ state: "answered", kind: sentKind, text: "", ms: performance.now() - t0 });
      }
    } catch (err) {
      setOutcome({
        state: "failed",
        kind: sentKind,
        error: describeError(err),
        ms: performance.now() - t0,
      });
    }
  };

  return (
    <section class="console" aria-labelledby="console-heading">
      <h2 id="console-heading">Message console</h2>
      <form class="console-form" onSubmit={send} noValidate>
        <fieldset>
          <legend>Send as</legend>
          <label>
            <input
              type="radio"
              name="console-kind"
              value="request"
              checked={kind === "request"}
              onChange={() => setKind("request")}
            />{" "}
            a request (waits for the workload's answer)
          </label>
          <label>
            <input
              type="radio"
              name="console-kind"
              value="message"
              checked={kind === "message"}
              onChange={() => setKind("message")}
            />{" "}
            a message (one way)
          </label>
        </fieldset>
        <label for="console-data">Data (JSON)</label>
        <textarea
          id="console-data"
          ref={dataField}
          rows={6}
          spellcheck={false}
          autocomplete="off"
          value={text}
          aria-invalid={problem ? true : undefined}
          aria-describedby="console-data-check"
          onInput={(e) => {
            setText(e.currentTarget.value);
            setChecked(checkJson(e.currentTarget.value));
          }}
        />
        <p id="console-data-check" class={problem ? "field-error" : "hint"}>
          {problem ?? (checked.ok ? `Valid JSON, ${checked.bytes} bytes as sent.` : "")}
        </p>
        {!checked.ok && (
          <div>
            <button type="button" onClick={() => showError(dataField.current, checked.offset)}>
              Show where
            </button>
          </div>
        )}
        <label for="console-timeout">Request timeout (ms)</label>
        <input
          id="console-timeout"
          ref={timeoutField}
          type="number"
          inputMode="numeric"
          min={1}
          max={maxRequestTimeoutMs}
          step={1}
          value={timeoutMs}
          disabled={kind !== "request"}
          aria-invalid={timeoutProblem ? true : undefined}
          aria-describedby={timeoutProblem ? "console-timeout-check" : undefined}
          onInput={(e) => setTimeoutMs(e.currentTarget.value)}
        />
        {timeoutProblem && (
          <p id="console-timeout-check" class="field-error">
            {timeoutProblem}
          </p>
        )}
        <div>
          <button type="submit" disabled={outcome?.state === "sending"}>
            {kind === "request" ? "Send the request" : "Send the message"}
          </button>
        </div>
      </form>
      <ConsoleOutcome outcome={outcome} />
      <WorkloadMessageList client={client} containerId={info.id} />
    </section>
  );
}

function ConsoleOutcome({ outcome }: { outcome: Outcome | undefined }) {
  if (!outcome) return null;
  const what = outcome.kind === "request" ? "The request" : "The message";
  return (
    <div class="console-outcome" data-outcome={outcome.state}>
      <p role="status">
        {outcome.state === "sending" && `${what} is on its way…`}
        {outcome.state === "answered" &&
          (outcome.kind === "request" ? "Answered in " : "Passed on to the workload in ")}
        {outcome.state === "answered" && <span data-latency>{formatLatency(outcome.ms)}</span>}
        {outcome.state === "answered" && "."}
      </p>
      {outcome.state === "answered" && outcome.kind === "request" && (
        <>
          <p class="hint">The workload's answer:</p>
          {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a region that may scroll takes the keyboard's focus (axe: scrollable-region-focusable) */}
          <pre class="output" tabIndex={0} data-answer>
            {outcome.text}
          </pre>
        </>
      )}
      {outcome.state === "failed" && (
        <ErrorNotice what={`${what} (after ${formatLatency(outcome.ms)})`} error={outcome.error} />
      )}
    </div>
  );
}

function formatLatency(ms: number): string {
  return ms < 10 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`;
}

/** Puts the caret on the character where the JSON goes wrong (selecting it), in the field, with the focus. */
function showError(field: HTMLTextAreaElement | null, offset: number): void {
  if (!field) return;
  field.focus();
  field.setSelectionRange(offset, Math.min(offset + 1, field.value.length));
}
