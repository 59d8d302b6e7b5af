import type { ContainerInfo, HealthCheck, Resources } from "@berth/client";

/**
 * What the page's Spec section shows of a container. `image`, `runtime`,
 * `labels`, `restartPolicy` and `network` come with every ContainerInfo.
 * The command, env, secret env keys, limits and health check are in berth's
 * record of the spec but not (yet) in ContainerInfo: `detail` is undefined
 * until berth sends them as `ContainerInfo.spec` (the shape read below), and
 * the section says so. Secret env: the KEYS only — the view never holds a
 * secret value, even were one sent (berth sends none).
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
  resources: Resources;
  healthCheck?: HealthCheck;
}

/**
 * The spec as the page shows it, from the live `info`; the detail from
 * `info`, or else from `answered` (the container's own `container:status`
 * answer, which may carry what a list leaves out). What berth sends is a
 * hostile owner's input like any other: a field of the wrong type is left
 * out, never shown raw.
 *
 * @example
 *   specView(info).detail?.secretEnvKeys; // ["API_KEY"], never its value
 */
export function specView(info: ContainerInfo, answered?: ContainerInfo): SpecView {
  const view: SpecView = {
    image: info.image,
    labels: info.labels,
    restartPolicy: info.restartPolicy,
    network: info.network,
  };
  if (info.runtime !== undefined) view.runtime = info.runtime;
  const detail =
    detailOf((info as { spec?: unknown }).spec) ??
    detailOf((answered as { spec?: unknown } | undefined)?.spec);
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
    detail.healthCheck = spec.healthCheck as unknown as HealthCheck;
  return detail;
}

function resourcesOf(r: Record<string, unknown>): Resources {
  const out: Resources = {};
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
