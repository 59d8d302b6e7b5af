import type { CodeUpload } from "@berth/client";
import { useState } from "preact/hooks";
import { formatBytes } from "../format.ts";
import { type CodeLimits, codeFromArchive, codeFromFolder } from "./code-from-folder.ts";
import { CodeInputError } from "./code-input-error.ts";

interface Props {
  /** Prefix of the ids of its inputs (one page may hold two pickers). */
  id: string;
  limits: CodeLimits;
  /** The code once picked and within berth's limits; undefined when nothing (valid) is picked. */
  onCode: (code: CodeUpload | undefined) => void;
  /** berth's word on the code, after a send (VALIDATION_FAILED naming `code`). */
  error?: string | undefined;
}

type Mode = "folder" | "archive";

// `webkitdirectory` is not in Preact's JSX types; every browser berth supports has it (set as a property).
const FOLDER_PICKER = { webkitdirectory: true } as Record<string, unknown>;

/**
 * The workload's code: a folder (every file under it, `.git/` left out) or
 * a .tar/.tar.gz archive. Checked against berth's limits the moment it is
 * picked, so that code berth would refuse is never sent.
 */
export function CodePicker({ id, limits, onCode, error }: Props) {
  const [mode, setMode] = useState<Mode>("folder");
  const [summary, setSummary] = useState<string>();
  const [problem, setProblem] = useState<string>();
  const shown = problem ?? error;

  const pick = async (input: HTMLInputElement) => {
    const files = [...(input.files ?? [])];
    setSummary(undefined);
    setProblem(undefined);
    onCode(undefined);
    if (files.length === 0) return;
    try {
      const code =
        mode === "folder" ? await codeFromFolder(files, limits) : await codeFromArchive(files[0]!, limits);
      onCode(code);
      setSummary(describe(code));
    } catch (err) {
      setProblem(err instanceof CodeInputError ? err.message : "The files could not be read.");
    }
  };

  const inputId = `${id}-input`;
  const errorId = `${id}-error`;
  return (
    <fieldset class="code-picker" aria-describedby={shown ? errorId : undefined}>
      <legend>Code</legend>
      <div class="choice">
        {(["folder", "archive"] as const).map((m) => (
          <label key={m}>
            <input
              type="radio"
              name={`${id}-mode`}
              value={m}
              checked={mode === m}
              onChange={() => {
                setMode(m);
                setSummary(undefined);
                setProblem(undefined);
                onCode(undefined);
              }}
            />{" "}
            {m === "folder" ? "A folder" : "An archive (.tar, .tar.gz)"}
          </label>
        ))}
      </div>
      <label for={inputId}>{mode === "folder" ? "Folder with the code" : "Archive of the code"}</label>
      <input
        key={mode}
        id={inputId}
        type="file"
        {...(mode === "folder"
          ? FOLDER_PICKER
          : { accept: ".tar,.tar.gz,.tgz,application/x-tar,application/gzip" })}
        aria-invalid={shown ? true : undefined}
        aria-describedby={shown ? errorId : undefined}
        onChange={(e) => void pick(e.currentTarget)}
      />
      <p class="hint">
        At most {limits.maxCodeFiles} files and {formatBytes(limits.maxCodeBytes)} of code.
        {summary && <span role="status"> Picked: {summary}.</span>}
      </p>
      {shown && (
        <p id={errorId} class="field-error">
          {shown}
        </p>
      )}
    </fieldset>
  );
}

function describe(code: CodeUpload): string {
  if (code.archive) return `an archive of ${formatBytes(code.archive.byteLength)}`;
  const contents = Object.values(code.files ?? {});
  const bytes = contents.reduce(
    (n, c) => n + (typeof c === "string" ? new TextEncoder().encode(c).length : c.byteLength),
    0,
  );
  return `${contents.length} file${contents.length === 1 ? "" : "s"}, ${formatBytes(bytes)}`;
}
