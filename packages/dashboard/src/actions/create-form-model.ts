import type { CodeUpload, ContainerSpec, RestartPolicy, Runtime, ServerInfo } from "@berth/client";

/** One row of an env or secret-env editor. Rows left wholly empty are ignored. */
export interface KeyValueRow {
  key: string;
  value: string;
}

/** The create form as typed: every field a string, as inputs give them, until toSpec. */
export interface CreateFormValues {
  name: string;
  /** Whether the container runs one of berth's runtimes or an allowed image. */
  source: "runtime" | "image";
  runtime: string;
  image: string;
  env: KeyValueRow[];
  secretEnv: KeyValueRow[];
  memoryMb: string;
  cpus: string;
  restartPolicy: RestartPolicy;
}

export type CreateField =
  | "name"
  | "runtime"
  | "image"
  | "env"
  | "secretEnv"
  | "memoryMb"
  | "cpus"
  | "restartPolicy"
  | "code";

export type FieldErrors = Partial<Record<CreateField, string>>;

export const RESTART_POLICIES: readonly RestartPolicy[] = ["no", "on-failure", "always"];

// berth's own rules (src/containers/container-spec.ts): checked here too, so that a mistake is named before a byte is sent.
const NAME = /^[a-z0-9][a-z0-9_.-]*$/;
const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MAX_ENTRIES = 256;
const MIN_SECRET_LENGTH = 4;
const MAX_SECRET_LENGTH = 8 * 1024;
const MIN_MEMORY_MB = 6;
const MIN_CPUS = 0.01;
const MAX_CPUS = 1024;

/** The runtimes a create may name now: those whose image the engine has (or could not be asked about). */
export function availableRuntimes(info: Pick<ServerInfo, "runtimes">): Runtime[] {
  return info.runtimes.filter((r) => r.available !== false).map((r) => r.name);
}

export function emptyForm(info: Pick<ServerInfo, "runtimes" | "images">): CreateFormValues {
  return {
    name: "",
    source: "runtime",
    runtime: availableRuntimes(info)[0] ?? "",
    image: info.images.allowed[0] ?? "",
    env: [{ key: "", value: "" }],
    secretEnv: [{ key: "", value: "" }],
    memoryMb: "",
    cpus: "",
    restartPolicy: "no",
  };
}

/**
 * What is wrong with the form, by field, in words for the person filling
 * it; empty when it may be sent. Never quotes a secret value.
 */
export function validateCreateForm(
  values: CreateFormValues,
  info: Pick<ServerInfo, "runtimes" | "images">,
): FieldErrors {
  const errors: FieldErrors = {};
  const name = values.name.trim();
  if (name === "") errors.name = "Give the container a name.";
  else if (name.length > 63) errors.name = "A name has at most 63 characters.";
  else if (!NAME.test(name))
    errors.name = "Use lower-case letters, digits, '_', '.' or '-', starting with a letter or a digit.";

  if (values.source === "runtime" && !availableRuntimes(info).includes(values.runtime as Runtime))
    errors.runtime = "Choose one of the runtimes this berth offers.";
  if (values.source === "image" && !info.images.allowed.includes(values.image))
    errors.image = "Choose one of the images this berth allows.";

  const env = rowsProblem(values.env, false);
  if (env) errors.env = env;
  const secretEnv = rowsProblem(values.secretEnv, true);
  if (secretEnv) errors.secretEnv = secretEnv;

  const memory = values.memoryMb.trim();
  if (memory !== "" && !(/^\d+$/.test(memory) && Number(memory) >= MIN_MEMORY_MB))
    errors.memoryMb = `Memory is a whole number of MB, at least ${MIN_MEMORY_MB}; leave it empty for berth's default.`;
  const cpus = values.cpus.trim();
  const cpuCount = Number(cpus);
  if (cpus !== "" && !(Number.isFinite(cpuCount) && cpuCount >= MIN_CPUS && cpuCount <= MAX_CPUS))
    errors.cpus = `CPUs is a number from ${MIN_CPUS} to ${MAX_CPUS} (0.5 is half a core); leave it empty for berth's default.`;
  return errors;
}

function rowsProblem(rows: readonly KeyValueRow[], secret: boolean): string | undefined {
  const used = rows.filter((r) => r.key.trim() !== "" || r.value !== "");
  if (used.length > MAX_ENTRIES) return `At most ${MAX_ENTRIES} variables.`;
  const seen = new Set<string>();
  for (const [i, row] of used.entries()) {
    const key = row.key.trim();
    const which = `Row ${i + 1}`;
    if (key === "") return `${which} has a value but no name.`;
    if (!ENV_KEY.test(key))
      return `“${key}” is not a variable name: letters, digits and '_', not starting with a digit.`;
    if (key.startsWith("BERTH_")) return `“${key}”: names starting BERTH_ are berth's own; choose another.`;
    if (seen.has(key)) return `“${key}” is there twice.`;
    seen.add(key);
    if (secret && row.value.length < MIN_SECRET_LENGTH)
      return `The secret “${key}” needs at least ${MIN_SECRET_LENGTH} characters.`;
    if (secret && row.value.length > MAX_SECRET_LENGTH)
      return `The secret “${key}” may have at most ${MAX_SECRET_LENGTH} characters.`;
  }
  return undefined;
}

/** The spec berth takes from a valid form (see validateCreateForm) and the code picked. */
export function toSpec(values: CreateFormValues, code: CodeUpload | undefined): ContainerSpec {
  const env = toMap(values.env);
  const secretEnv = toMap(values.secretEnv);
  const memory = values.memoryMb.trim();
  const cpus = values.cpus.trim();
  const resources = {
    ...(memory === "" ? {} : { memoryMb: Number(memory) }),
    ...(cpus === "" ? {} : { cpus: Number(cpus) }),
  };
  return {
    name: values.name.trim(),
    ...(values.source === "runtime" ? { runtime: values.runtime as Runtime } : { image: values.image }),
    ...(Object.keys(env).length > 0 ? { env } : {}),
    ...(Object.keys(secretEnv).length > 0 ? { secretEnv } : {}),
    ...(Object.keys(resources).length > 0 ? { resources } : {}),
    restartPolicy: values.restartPolicy,
    ...(code ? { code } : {}),
  };
}

function toMap(rows: readonly KeyValueRow[]): Record<string, string> {
  const map: Record<string, string> = {};
  for (const row of rows) if (row.key.trim() !== "") map[row.key.trim()] = row.value;
  return map;
}

/**
 * The form's field for a field berth named in a VALIDATION_FAILED
 * (`resources.memoryMb` → memoryMb, `env.FOO` → env, `code.files` → code);
 * undefined for one the form has no field for (its error is shown with the form's).
 */
export function fieldOfPath(path: string, source: CreateFormValues["source"]): CreateField | undefined {
  const [head, sub] = path.split(".");
  switch (head) {
    case "name":
    case "env":
    case "secretEnv":
    case "restartPolicy":
    case "code":
      return head;
    case "runtime":
    case "image":
      // A runtime and an image that disagree are named as `runtime`: the form shows one of the two.
      return source === "image" ? "image" : "runtime";
    case "resources":
      return sub === "memoryMb" || sub === "cpus" ? sub : undefined;
    default:
      return undefined;
  }
}
