import type { Container, ContainerInfo } from "@berth/client";
import type { ComponentChild } from "preact";
import { type Cuts, type Limits, type SpecDetail, specView } from "./spec-view.ts";
import { useContainerSpec } from "./use-container-spec.ts";

/** What the page says of a part of the spec berth did not send. */
const NOT_SENT = "not sent by this berth";
/** …and while the container's own answer, which carries it, is on its way. */
const LOADING = "Loading…";
/** …and when that answer failed (the connection dropped, the container went). */
const FAILED = "could not be read";

/**
 * The container's spec, as it was created: image, runtime, command, env (with
 * values), secret env (keys only: berth never sends a secret value, and the
 * page could not show one), labels, limits, restart policy, network and
 * health check. Every value is an owner's text, rendered as text. `info`:
 * the live row; `container`: the handle, through which the section asks for
 * the spec itself (useContainerSpec: on open and when the release changes).
 * A value berth cut is marked as cut, and the entries it left out counted.
 */
export function ContainerSpec({
  info,
  container,
}: {
  info: ContainerInfo;
  container?: Container | undefined;
}) {
  const asked = useContainerSpec(container, info.release);
  const spec = specView(info, asked.status === "ready" ? asked.sent : undefined);
  const d = spec.detail;
  const missing = asked.status === "loading" ? LOADING : asked.status === "failed" ? FAILED : NOT_SENT;
  return (
    <section class="spec" aria-labelledby="spec-heading">
      <h2 id="spec-heading">Spec</h2>
      <dl class="facts">
        <dt>Image</dt>
        <dd>
          <code>{spec.image}</code>
        </dd>
        <dt>Runtime</dt>
        <dd>{spec.runtime ?? "none (a custom image)"}</dd>
        <dt>Command</dt>
        <dd data-spec="command">
          {d ? d.command ? <CommandText command={d.command} cuts={d.cuts} /> : "the image's own" : missing}
        </dd>
        <dt>Environment</dt>
        <dd data-spec="env">{d ? <Pairs pairs={d.env} cuts={d.cuts} /> : missing}</dd>
        <dt>Secret environment</dt>
        <dd data-spec="secret-env">{d ? <SecretKeys keys={d.secretEnvKeys} /> : missing}</dd>
        <dt>Labels</dt>
        <dd data-spec="labels">
          <Pairs pairs={spec.labels} />
        </dd>
        <dt>Limits</dt>
        <dd data-spec="limits">{d ? limitsText(d.resources) : missing}</dd>
        <dt>Restart policy</dt>
        <dd>{spec.restartPolicy}</dd>
        <dt>Network</dt>
        <dd>{spec.network === "none" ? "none (no network)" : spec.network}</dd>
        <dt>Health check</dt>
        <dd data-spec="health-check">{d ? healthText(d) : missing}</dd>
      </dl>
    </section>
  );
}

/** What a cut value's marker means, in words beside it (the marker alone could be the owner's own text). */
const CUT_NOTE = "(cut: only its first 1,024 characters are shown)";

function Pairs({ pairs, cuts }: { pairs: Record<string, string>; cuts?: Cuts | undefined }): ComponentChild {
  const entries = Object.entries(pairs);
  const omitted = cuts?.omittedEnv ?? 0;
  if (entries.length === 0 && omitted === 0) return "none";
  const cut = new Set(cuts?.env);
  return (
    <>
      <ul class="pairs">
        {entries.map(([k, v]) => (
          <li key={k}>
            <code>
              {k}={v}
            </code>
            {cut.has(k) && <span class="muted"> {CUT_NOTE}</span>}
          </li>
        ))}
      </ul>
      {omitted > 0 && (
        <p class="muted" data-spec="env-omitted">
          {omitted} more {omitted === 1 ? "entry" : "entries"} not shown: berth sends at most 64 KiB of a
          spec.
        </p>
      )}
    </>
  );
}

function CommandText({ command, cuts }: { command: string[]; cuts?: Cuts | undefined }): ComponentChild {
  const notes = [
    cuts && cuts.args.length > 0 && `${cuts.args.length} argument(s) cut to their first 1,024 characters`,
    cuts && cuts.omittedArgs > 0 && `${cuts.omittedArgs} more argument(s) not shown`,
  ].filter(Boolean);
  return (
    <>
      {/* As a JSON array, like the image's own: a space inside an argument stays visible. */}
      <code>{JSON.stringify(command)}</code>
      {notes.length > 0 && <span class="muted"> ({notes.join("; ")})</span>}
    </>
  );
}

function SecretKeys({ keys }: { keys: string[] }): ComponentChild {
  if (keys.length === 0) return "none";
  return (
    <ul class="pairs">
      {keys.map((k) => (
        <li key={k}>
          <code>{k}</code> <span class="muted">(value hidden)</span>
        </li>
      ))}
    </ul>
  );
}

function limitsText(r: Limits): string {
  const parts = [
    r.memoryMb !== undefined && `${r.memoryMb} MB memory`,
    r.cpus !== undefined && `${r.cpus} ${r.cpus === 1 ? "CPU" : "CPUs"}`,
    r.pids !== undefined && `${r.pids} processes`,
  ].filter(Boolean);
  return parts.length === 0 ? "berth's defaults" : parts.join(", ");
}

function healthText(d: SpecDetail): ComponentChild {
  const h = d.healthCheck;
  if (!h) return "none";
  const timing = [
    h.intervalMs !== undefined && ` every ${h.intervalMs} ms`,
    h.timeoutMs !== undefined && `, a ${h.timeoutMs} ms timeout`,
    h.retries !== undefined && `, unhealthy after ${h.retries} ${h.retries === 1 ? "miss" : "misses"}`,
  ]
    .filter(Boolean)
    .join("");
  return (
    <>
      request <code>{JSON.stringify(h.request)}</code>
      {h.expect !== undefined && (
        <>
          , expecting <code>{JSON.stringify(h.expect)}</code>
        </>
      )}
      {timing}
      {d.cuts?.healthCheck && (
        <span class="muted"> (cut: shown as the first 1,024 characters of its JSON)</span>
      )}
    </>
  );
}
