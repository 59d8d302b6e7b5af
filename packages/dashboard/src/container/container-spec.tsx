import type { Container, ContainerInfo } from "@berth/client";
import type { ComponentChild } from "preact";
import { type Limits, type SpecDetail, specView } from "./spec-view.ts";

/** What the page says of a part of the spec berth did not send. */
const NOT_SENT = "not sent by this berth";
/** …and while the container's own answer, which carries it, is on its way. */
const LOADING = "Loading…";

/**
 * The container's spec, as it was created: image, runtime, command, env (with
 * values), secret env (keys only: berth never sends a secret value, and the
 * page could not show one), labels, limits, restart policy, network and
 * health check. Every value is an owner's text, rendered as text. `info`:
 * the live row; `container`: the handle, whose `spec` came with its
 * `container:status` answer (the one answer that carries it).
 */
export function ContainerSpec({
  info,
  container,
}: {
  info: ContainerInfo;
  container?: Container | undefined;
}) {
  const spec = specView(info, container?.spec);
  const d = spec.detail;
  const missing = container ? NOT_SENT : LOADING;
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
        {/* As a JSON array, like the image's own: a space inside an argument stays visible. */}
        <dd data-spec="command">
          {d ? d.command ? <code>{JSON.stringify(d.command)}</code> : "the image's own" : missing}
        </dd>
        <dt>Environment</dt>
        <dd data-spec="env">{d ? <Pairs pairs={d.env} /> : missing}</dd>
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

function Pairs({ pairs }: { pairs: Record<string, string> }): ComponentChild {
  const entries = Object.entries(pairs);
  if (entries.length === 0) return "none";
  return (
    <ul class="pairs">
      {entries.map(([k, v]) => (
        <li key={k}>
          <code>
            {k}={v}
          </code>
        </li>
      ))}
    </ul>
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
    </>
  );
}
