import type { ContainerInfo, HealthCheck } from "@berth/client";

/**
 * What the page's Spec section shows of a container. `image`, `runtime`,
 * `labels`, `restartPolicy` and `network` come with every ContainerInfo.
 * The command, env, secret env keys, limits and health check come with the
 * container's own `container:status { spec: true }` answer only
 * (`ContainerDetail.spec`, see useContainerSpec): `detail` is undefined until
 * that answer is read, or for good from a berth that does not send it.
 * `cuts` says what berth cut from it (each value past 1 KiB, the entries past
 * 64 KiB), so the page can say so rather than pass a cut value off as whole.
 * Secret env: the KEYS only — the view never holds a secret value, even were
 * one sent (berth sends none).
 */
export interface SpecView {
  image: string;
  runtime?: string;
  labels: Record<string, string>;
  restartPolicy: string;
  network: string;
  detail?: SpecDetail;
}

export interface SpecDetail {
  command?: string[];
  env: Record<string, string>;
  secretEnvKeys: string[];
  resources: Limits;
  healthCheck?: HealthCheck;
  cuts?: Cuts;
}

/** What berth cut from the spec it sent (`ContainerSpecInfo.truncated`), checked as the rest is. */
export interface Cuts {
  /** Env keys whose value is shown cut. */
  env: string[];
  /** Positions of the command arguments shown cut. */
  args: number[];
  omittedEnv: number;
  omittedArgs: number;
  healthCheck: boolean;
}

/** The limits as berth sent them (the server's defaults filled in); a field of the wrong type is left out. */
export interface Limits {
  memoryMb?: number;
  cpus?: number;
  pids?: number;
}

/**
 * The spec as the page shows it, from the live `info` and `sent`, the spec
 * of the container's own `container:status` answer. What berth sends is a
 * hostile owner's input like any other: a field of the wrong type is left
 * out, never shown raw.
 *
 * @example
 *   specView(info, container.spec).detail?.secretEnvKeys; // ["API_KEY"], never its value
 */
export function specView(info: ContainerInfo, sent?: unknown): SpecView {
  const view: SpecView = {
    image: info.image,
    labels: info.labels,
    restartPolicy: info.restartPolicy,
    network: info.network,
  };
  if (info.runtime !== undefined) view.runtime = info.runtime;
  const detail = detailOf(sent);
  if (detail) view.detail = detail;
  return view;
}

function detailOf(spec: unknown): SpecDetail | undefined {
  if (!isRecord(spec)) return undefined;
  const detail: SpecDetail = {
    env: isRecord(spec.env) ? strings(spec.env) : {},
    // Keys from whichever field carries them; the values of a `secretEnv` map are dropped here, unread.
    secretEnvKeys: Array.isArray(spec.secretEnvKeys)
      ? spec.secretEnvKeys.filter((k): k is string => typeof k === "string")
      : isRecord(spec.secretEnv)
        ? Object.keys(spec.secretEnv)
        : [],
    resources: isRecord(spec.resources) ? resourcesOf(spec.resources) : {},
  };
  if (Array.isArray(spec.command) && spec.command.every((c) => typeof c === "string"))
    detail.command = spec.command;
  if (isRecord(spec.healthCheck) && "request" in spec.healthCheck)
    detail.healthCheck = healthCheckOf(spec.healthCheck);
  if (isRecord(spec.truncated)) detail.cuts = cutsOf(spec.truncated);
  return detail;
}

function cutsOf(t: Record<string, unknown>): Cuts {
  const count = (v: unknown) => (typeof v === "number" && Number.isInteger(v) && v > 0 ? v : 0);
  return {
    env: Array.isArray(t.env) ? t.env.filter((k): k is string => typeof k === "string") : [],
    args: Array.isArray(t.args) ? t.args.filter((i): i is number => typeof i === "number") : [],
    omittedEnv: count(t.omittedEnv),
    omittedArgs: count(t.omittedArgs),
    healthCheck: t.healthCheck === true,
  };
}

/** The request and expected answer are JSON, shown as JSON; the times and the count only as numbers. */
function healthCheckOf(h: Record<string, unknown>): HealthCheck {
  const out: HealthCheck = { request: h.request };
  if (h.expect !== undefined) out.expect = h.expect;
  if (typeof h.intervalMs === "number") out.intervalMs = h.intervalMs;
  if (typeof h.timeoutMs === "number") out.timeoutMs = h.timeoutMs;
  if (typeof h.retries === "number") out.retries = h.retries;
  return out;
}

function resourcesOf(r: Record<string, unknown>): Limits {
  const out: Limits = {};
  if (typeof r.memoryMb === "number") out.memoryMb = r.memoryMb;
  if (typeof r.cpus === "number") out.cpus = r.cpus;
  if (typeof r.pids === "number") out.pids = r.pids;
  return out;
}

function strings(record: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(record).filter((e): e is [string, string] => typeof e[1] === "string"),
  );
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
