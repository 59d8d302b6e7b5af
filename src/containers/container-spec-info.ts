import {
  type ContainerSpecInfo,
  type HealthCheck,
  MAX_SPEC_INFO_LENGTH,
  MAX_SPEC_VALUE_LENGTH,
  type Resources,
  type SpecCuts,
} from "#protocol";
import { isSecretKey, type Redactor } from "../logging/redactor.ts";
import type { StoredSpec } from "./container-spec.ts";
import { shownSpecValue } from "./shown-spec-value.ts";

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
 * Bounded, since a spec may hold 256 env values of 32 KiB (8 MiB) and a
 * status answer must stay cheap to build and to send: each value and argument
 * is cut to MAX_SPEC_VALUE_LENGTH before it is redacted (shownSpecValue), and
 * once the command and env shown reach MAX_SPEC_INFO_LENGTH the rest is left
 * out — and not even redacted — and counted. `truncated` says what was cut.
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
  const cuts: SpecCuts = { env: [], args: [], omittedEnv: 0, omittedArgs: 0, healthCheck: false };
  // The JSON the command and env take so far. Each entry is shown (cut, then redacted: at most
  // MAX_SPEC_VALUE_LENGTH looked at) and kept only if it still fits; the first that does not ends them.
  let used = 0;
  const take = (raw: string, keyJson = ""): { text: string; cut: boolean } | undefined => {
    const shown = shownSpecValue(raw, redactor);
    const cost = keyJson.length + JSON.stringify(shown.text).length + 2;
    if (used + cost > MAX_SPEC_INFO_LENGTH) return undefined;
    used += cost;
    return shown;
  };

  let command: string[] | undefined;
  if (spec.command) {
    command = [];
    for (const [i, arg] of spec.command.entries()) {
      const shown = take(arg);
      if (!shown) {
        cuts.omittedArgs = spec.command.length - i;
        break;
      }
      if (shown.cut) cuts.args.push(i);
      command.push(shown.text);
    }
  }

  const env: Record<string, string> = {};
  const secretKeys = new Set(Object.keys(spec.secretEnv ?? {}));
  let full = cuts.omittedArgs > 0;
  for (const [key, value] of Object.entries(spec.env ?? {})) {
    if (isSecretKey(key)) {
      secretKeys.add(key);
      continue;
    }
    const shown = full ? undefined : take(value, JSON.stringify(key));
    if (!shown) {
      full = true;
      cuts.omittedEnv++;
      continue;
    }
    if (shown.cut) cuts.env.push(key);
    env[key] = shown.text;
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
  if (command) info.command = command;
  if (spec.healthCheck) info.healthCheck = redactedHealthCheck(spec.healthCheck, redactor, cuts);
  if (cuts.env.length + cuts.args.length + cuts.omittedEnv + cuts.omittedArgs > 0 || cuts.healthCheck)
    info.truncated = cuts;
  return info;
}

/**
 * The health check's request and expected answer are JSON of the owner's: a
 * value under a secret-looking key (`{ "token": … }`) or holding a secret is
 * hidden, as in any JSON berth shows. One longer than MAX_SPEC_VALUE_LENGTH
 * as JSON is shown as its JSON text, cut as an env value is.
 */
function redactedHealthCheck(check: HealthCheck, redactor: Redactor, cuts: SpecCuts): HealthCheck {
  const shown = (value: unknown): unknown => {
    const redacted = redactor.redact(value);
    const json = JSON.stringify(redacted) ?? "null";
    if (json.length <= MAX_SPEC_VALUE_LENGTH) return redacted;
    cuts.healthCheck = true;
    return shownSpecValue(json, redactor).text;
  };
  // Field by field, not a spread: only what the contract names leaves berth, whatever a stored spec holds.
  const out: HealthCheck = { request: shown(check.request) as HealthCheck["request"] };
  if (check.expect !== undefined) out.expect = shown(check.expect) as HealthCheck["expect"];
  if (check.intervalMs !== undefined) out.intervalMs = check.intervalMs;
  if (check.timeoutMs !== undefined) out.timeoutMs = check.timeoutMs;
  if (check.retries !== undefined) out.retries = check.retries;
  return out;
}
