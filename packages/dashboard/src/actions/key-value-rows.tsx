import type { KeyValueRow } from "./create-form-model.ts";

interface Props {
  /** Prefix of the ids of its inputs. */
  id: string;
  legend: string;
  rows: KeyValueRow[];
  onChange: (rows: KeyValueRow[]) => void;
  /** Values in password inputs, never autofilled or kept by the browser. */
  secret?: boolean;
  error?: string | undefined;
}

/** Name/value rows (env, secret env): add and remove rows; a secret's value is typed into a password input. */
export function KeyValueRows({ id, legend, rows, onChange, secret = false, error }: Props) {
  const errorId = `${id}-error`;
  const set = (i: number, change: Partial<KeyValueRow>) =>
    onChange(rows.map((row, j) => (j === i ? { ...row, ...change } : row)));
  return (
    <fieldset class="key-values" aria-describedby={error ? errorId : undefined}>
      <legend>{legend}</legend>
      {rows.map((row, i) => (
        // Rows have no identity but their place; removing one re-renders those after it, which is fine for a form.
        <div class="key-value" key={i}>
          <label class="visually-hidden" for={`${id}-key-${i}`}>
            {legend}: name {i + 1}
          </label>
          <input
            id={`${id}-key-${i}`}
            placeholder="NAME"
            autocomplete="off"
            spellcheck={false}
            value={row.key}
            aria-invalid={error ? true : undefined}
            onInput={(e) => set(i, { key: e.currentTarget.value })}
          />
          <label class="visually-hidden" for={`${id}-value-${i}`}>
            {legend}: value {i + 1}
          </label>
          {secret ? (
            <input
              id={`${id}-value-${i}`}
              type="password"
              placeholder="value"
              autocomplete="new-password"
              value={row.value}
              onInput={(e) => set(i, { value: e.currentTarget.value })}
            />
          ) : (
            <input
              id={`${id}-value-${i}`}
              placeholder="value"
              autocomplete="off"
              spellcheck={false}
              value={row.value}
              onInput={(e) => set(i, { value: e.currentTarget.value })}
            />
          )}
          <button type="button" onClick={() => onChange(rows.filter((_, j) => j !== i))}>
            Remove
            <span class="visually-hidden">
              {" "}
              {legend.toLowerCase()} row {i + 1}
            </span>
          </button>
        </div>
      ))}
      <button type="button" onClick={() => onChange([...rows, { key: "", value: "" }])}>
        Add<span class="visually-hidden"> to {legend.toLowerCase()}</span>
      </button>
      {error && (
        <p id={errorId} class="field-error">
          {error}
        </p>
      )}
    </fieldset>
  );
}
