import type { BerthClient, CodeUpload } from "@berth/client";
import { useEffect, useState } from "preact/hooks";
import { ErrorNotice } from "../errors/error-notice.tsx";
import { routeHref } from "../router/route.ts";
import { CodePicker } from "./code-picker.tsx";
import {
  availableRuntimes,
  type CreateField,
  type CreateFormValues,
  emptyForm,
  type FieldErrors,
  fieldOfPath,
  RESTART_POLICIES,
  toSpec,
  validateCreateForm,
} from "./create-form-model.ts";
import { KeyValueRows } from "./key-value-rows.tsx";
import { ProgressSteps } from "./progress-steps.tsx";
import { useAction } from "./use-action.ts";

/** The input that takes the focus when a field is wrong: the field itself, or the first input of a group. */
const FOCUS_ID: Record<CreateField, string> = {
  name: "create-name",
  runtime: "create-runtime",
  image: "create-image",
  env: "create-env-key-0",
  secretEnv: "create-secret-key-0",
  memoryMb: "create-memory",
  cpus: "create-cpus",
  restartPolicy: "create-restart",
  code: "create-code-input",
};

/**
 * The create form: name, runtime or image, env, secret env, limits, restart
 * policy and code. Checked here first (each mistake next to its field), then
 * sent; berth's steps show as they run, and a VALIDATION_FAILED shows next to
 * the field berth named. Secret values are cleared from the form the moment
 * it is sent: the page never shows one again.
 */
export function CreateForm({ client }: { client: BerthClient }) {
  const info = client.info;
  const [values, setValues] = useState<CreateFormValues>(() => emptyForm(info));
  const [code, setCode] = useState<CodeUpload>();
  const [checked, setChecked] = useState<FieldErrors>({});
  const [created, setCreated] = useState<string>();
  const action = useAction();
  const { state } = action;
  const runtimes = availableRuntimes(info);

  const berthField =
    state.phase === "failed" && state.error.field ? fieldOfPath(state.error.field, values.source) : undefined;
  const errorOf = (field: CreateField): string | undefined =>
    checked[field] ?? (berthField === field && state.phase === "failed" ? state.error.message : undefined);
  const focus = (field: CreateField) => document.getElementById(FOCUS_ID[field])?.focus();

  // berth named a field: the focus goes there, as it does for the form's own checks.
  useEffect(() => {
    if (berthField) focus(berthField);
  }, [state]);

  const update = (change: Partial<CreateFormValues>) => setValues((v) => ({ ...v, ...change }));

  const submit = async (e: Event) => {
    e.preventDefault();
    if (state.phase === "pending") return;
    const errors = validateCreateForm(values, info);
    if (!code && values.source === "runtime")
      errors.code = "Pick the workload's code: a folder or an archive.";
    setChecked(errors);
    const first = (Object.keys(FOCUS_ID) as CreateField[]).find((f) => errors[f] !== undefined);
    if (first) {
      focus(first);
      return;
    }
    const spec = toSpec(values, code);
    // The secret values leave the form with the send, whatever berth answers: the page never shows one again.
    setValues((v) => ({ ...v, secretEnv: v.secretEnv.map((row) => ({ key: row.key, value: "" })) }));
    setCreated(undefined);
    await action.run("create", async (onProgress) => {
      const container = await client.containers.create(spec, { onProgress });
      setCreated(container.name);
      return `${container.name} is ${container.info.state}.`;
    });
  };

  const described = (field: CreateField) =>
    errorOf(field) ? { "aria-invalid": true, "aria-describedby": `create-${field}-error` } : {};
  const fieldError = (field: CreateField) =>
    errorOf(field) && (
      <p id={`create-${field}-error`} class="field-error">
        {errorOf(field)}
      </p>
    );

  return (
    <form class="create-form" method="post" onSubmit={submit} noValidate>
      <div class="field">
        <label for="create-name">Name</label>
        <input
          id="create-name"
          autocomplete="off"
          spellcheck={false}
          maxLength={63}
          value={values.name}
          onInput={(e) => update({ name: e.currentTarget.value })}
          {...described("name")}
        />
        <p class="hint">Lower-case letters, digits, '_', '.' and '-'.</p>
        {fieldError("name")}
      </div>

      <fieldset class="choice">
        <legend>Runs</legend>
        <label>
          <input
            type="radio"
            name="create-source"
            checked={values.source === "runtime"}
            onChange={() => update({ source: "runtime" })}
          />{" "}
          a runtime of berth's
        </label>
        <label>
          <input
            type="radio"
            name="create-source"
            checked={values.source === "image"}
            onChange={() => update({ source: "image" })}
          />{" "}
          an allowed image
        </label>
      </fieldset>
      {values.source === "runtime" ? (
        <div class="field">
          <label for="create-runtime">Runtime</label>
          <select
            id="create-runtime"
            value={values.runtime}
            onChange={(e) => update({ runtime: e.currentTarget.value })}
            {...described("runtime")}
          >
            {runtimes.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
          {runtimes.length === 0 && <p class="hint">This berth has no runtime's image at the moment.</p>}
          {fieldError("runtime")}
        </div>
      ) : (
        <div class="field">
          <label for="create-image">Image</label>
          <select
            id="create-image"
            value={values.image}
            onChange={(e) => update({ image: e.currentTarget.value })}
            {...described("image")}
          >
            {info.images.allowed.map((image) => (
              <option key={image} value={image}>
                {image}
              </option>
            ))}
          </select>
          {fieldError("image")}
        </div>
      )}

      <KeyValueRows
        id="create-env"
        legend="Environment"
        rows={values.env}
        onChange={(env) => update({ env })}
        error={errorOf("env")}
      />
      <KeyValueRows
        id="create-secret"
        legend="Secret environment"
        rows={values.secretEnv}
        onChange={(secretEnv) => update({ secretEnv })}
        secret
        error={errorOf("secretEnv")}
      />

      <fieldset class="limits">
        <legend>Limits</legend>
        <div class="field">
          <label for="create-memory">Memory (MB)</label>
          <input
            id="create-memory"
            inputMode="numeric"
            placeholder="default"
            value={values.memoryMb}
            onInput={(e) => update({ memoryMb: e.currentTarget.value })}
            {...described("memoryMb")}
          />
          {fieldError("memoryMb")}
        </div>
        <div class="field">
          <label for="create-cpus">CPUs</label>
          <input
            id="create-cpus"
            inputMode="decimal"
            placeholder="default"
            value={values.cpus}
            onInput={(e) => update({ cpus: e.currentTarget.value })}
            {...described("cpus")}
          />
          {fieldError("cpus")}
        </div>
        <div class="field">
          <label for="create-restart">Restart policy</label>
          <select
            id="create-restart"
            value={values.restartPolicy}
            onChange={(e) =>
              update({ restartPolicy: e.currentTarget.value as CreateFormValues["restartPolicy"] })
            }
            {...described("restartPolicy")}
          >
            {RESTART_POLICIES.map((p) => (
              <option key={p} value={p}>
                {p}
              </option>
            ))}
          </select>
          {fieldError("restartPolicy")}
        </div>
      </fieldset>

      <CodePicker id="create-code" limits={info.limits} onCode={setCode} error={errorOf("code")} />

      <div class="form-actions">
        <button type="submit" class="primary" disabled={state.phase === "pending"}>
          {state.phase === "pending" ? "Creating…" : "Create"}
        </button>
      </div>

      {state.phase !== "idle" && <ProgressSteps steps={state.steps} label="Steps of the create" />}
      {state.phase === "done" && created && (
        <p class="done" role="status">
          Created {state.message} <a href={routeHref({ page: "container", name: created })}>Open {created}</a>{" "}
          · <a href={routeHref({ page: "overview" })}>Back to the containers</a>
        </p>
      )}
      {state.phase === "failed" && <ErrorNotice what="Creating the container" error={state.error} />}
    </form>
  );
}
