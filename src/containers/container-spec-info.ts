import type { ContainerSpecInfo, HealthCheck, Resources } from "#protocol";
import { isSecretKey, type Redactor } from "../logging/redactor.ts";
import type { StoredSpec } from "./container-spec.ts";

/** The server's limits for a container whose spec names none (BERTH_DEFAULT_MEMORY_MB, _CPUS, _PIDS). */
export type ResourceDefaults = Required<Resources>;

/**
 * A container's stored spec as its owner (and the admin) may see it.
 * Secret values never leave here: a `secretEnv` value, or an `env` value
 * under a secret-looking key (the rule by which berth seals and hides those),
 * is dropped and only its key listed, so no redactor has to be right about
 * it. What is left — the other env values, the command, the health check — is
 * the owner's text and goes through `redactor` (the owner's: its secrets,
 * token and secret-looking strings hidden), as every text berth shows does.
 *
 * @example
 *   toSpecInfo({ name: "web", env: { MODE: "prod", DB_PASSWORD: "x" }, secretEnv: { API_KEY: "y" } },
 *     { memoryMb: 256, cpus: 1, pids: 256 }, registry.forOwner("alice"));
 *   // → { env: { MODE: "prod" }, secretEnvKeys: ["API_KEY", "DB_PASSWORD"],
 *   //     resources: { memoryMb: 256, cpus: 1, pids: 256 } }
 */
export function toSpecInfo(
  spec: StoredSpec,
  defaults: ResourceDefaults,
  redactor: Redactor,
): ContainerSpecInfo {
  const env: Record<string, string> = {};
  const secretKeys = new Set(Object.keys(spec.secretEnv ?? {}));
  for (const [key, value] of Object.entries(spec.env ?? {})) {
    if (isSecretKey(key)) secretKeys.add(key);
    else env[key] = redactor.redactString(value);
  }
  const info: ContainerSpecInfo = {
    env,
    secretEnvKeys: [...secretKeys].sort(),
    resources: {
      memoryMb: spec.resources?.memoryMb ?? defaults.memoryMb,
      cpus: spec.resources?.cpus ?? defaults.cpus,
      pids: spec.resources?.pids ?? defaults.pids,
    },
  };
  if (spec.command) info.command = spec.command.map((arg) => redactor.redactString(arg));
  if (spec.healthCheck) info.healthCheck = redactedHealthCheck(spec.healthCheck, redactor);
  return info;
}

/**
 * The health check's request and expected answer are JSON of the owner's: a
 * value under a secret-looking key (`{ "token": … }`) or holding a secret is
 * hidden, as in any JSON berth shows.
 */
function redactedHealthCheck(check: HealthCheck, redactor: Redactor): HealthCheck {
  // Field by field, not a spread: only what the contract names leaves berth, whatever a stored spec holds.
  const out: HealthCheck = { request: redactor.redact(check.request) };
  if (check.expect !== undefined) out.expect = redactor.redact(check.expect);
  if (check.intervalMs !== undefined) out.intervalMs = check.intervalMs;
  if (check.timeoutMs !== undefined) out.timeoutMs = check.timeoutMs;
  if (check.retries !== undefined) out.retries = check.retries;
  return out;
}
