import type { Runtime } from "#protocol";
import type { CodeEntryList } from "../code/code-entry.ts";
import { ValidationError } from "../errors/errors.ts";
import type { CatalogImage } from "./image-catalog.ts";

/** Where older images expect the code: /app, a link to the active release. */
const APP_DIR = "/app/";

/**
 * The file of the code that an image's default command runs: its
 * `berth.entry` label (`index.js`, `main.py` on berth's runtime images) when
 * that command does run it; else, for images from before labels, the first
 * argument of its command under /app (`node /app/index.js`). Undefined when
 * neither says (a shell, a binary in the image), which berth then cannot check.
 *
 * The label counts only with the command: an image built `FROM` a runtime
 * image inherits its `berth.entry` (`main.py`) even when it runs another file
 * (`CMD ["python3", "bot.py"]`), and code would then be refused for lacking a
 * file nothing runs (staleEntryLabel() names such a label).
 *
 * @example entryFileOf({ facts: { entrypoint: [], cmd: ["python3", "bot.py"], labels: {} }, labels: { entry: "main.py" } })
 *   // → undefined: the command does not run main.py
 */
export function entryFileOf(image: Pick<CatalogImage, "facts" | "labels">): string | undefined {
  const { entry } = image.labels;
  if (entry !== undefined && runs(defaultCommandOf(image), entry)) return entry;
  for (const arg of [...image.facts.entrypoint, ...image.facts.cmd]) {
    if (arg.startsWith(APP_DIR) && arg.length > APP_DIR.length) return arg.slice(APP_DIR.length);
  }
  return undefined;
}

/** The image's `berth.entry` when its default command does not run it (berth ignores it then), else undefined. */
export function staleEntryLabel(image: Pick<CatalogImage, "facts" | "labels">): string | undefined {
  const { entry } = image.labels;
  return entry !== undefined && !runs(defaultCommandOf(image), entry) ? entry : undefined;
}

/** Whether `command` runs `entry`: an argument that is the entry, or a path ending in it (`/app/main.py`). */
function runs(command: readonly string[], entry: string): boolean {
  return command.some((arg) => arg === entry || arg.endsWith(`/${entry}`));
}

/** The command an image runs when a spec names none: its `berth.command` label, else its ENTRYPOINT and CMD. */
export function defaultCommandOf(image: Pick<CatalogImage, "facts" | "labels">): string[] {
  return image.labels.command ?? [...image.facts.entrypoint, ...image.facts.cmd];
}

/**
 * VALIDATION_FAILED when code meant for an image's default command lacks the
 * file that command runs: refused before anything is made (at create) or
 * switched to (at update), rather than started to fail with "Cannot find
 * module" or "can't open file".
 */
export function requireEntryFile(
  entries: CodeEntryList,
  image: CatalogImage,
  runtime: Runtime | undefined,
): void {
  const entry = entryFileOf(image);
  if (entry === undefined) return;
  if (entries.some((e) => e.path === entry && e.kind !== "dir")) return;
  // Cut: a label may hold 16 KiB of command, which would drown the message.
  const full = defaultCommandOf(image).join(" ");
  const command = full.length > 200 ? `${full.slice(0, 200)}…` : full;
  const of =
    runtime === undefined ? `the image ${image.image}` : `the ${runtime} runtime's image ${image.image}`;
  throw new ValidationError(
    `The code has no '${entry}', which ${of} runs by default (${command}); add '${entry}' to the code, or give a \`command\` that runs your entry file.`,
    { details: { field: "code", missing: entry, ...(runtime !== undefined ? { runtime } : {}) } },
  );
}
