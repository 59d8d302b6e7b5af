import type { ImageFacts } from "../docker/docker-client.ts";
import { ValidationError } from "../errors/errors.ts";
import type { CodeEntryList } from "../updates/code-entry.ts";

/** Where the code is in the container: /app is the active release. */
const APP_DIR = "/app/";

/**
 * The file of the code that an image's default command runs: `index.js` for
 * `node /app/index.js` (berth's runtime image), `main.py` for
 * `python3 /app/main.py`. Undefined when the command names no file under
 * /app (a shell, a binary in the image), which berth then cannot check.
 */
export function entryFileOf(facts: ImageFacts): string | undefined {
  for (const arg of [...facts.entrypoint, ...facts.cmd]) {
    if (arg.startsWith(APP_DIR) && arg.length > APP_DIR.length) return arg.slice(APP_DIR.length);
  }
  return undefined;
}

/**
 * VALIDATION_FAILED when code meant for an image's default command lacks the
 * file that command runs: refused before anything is made, rather than
 * started to fail with "Cannot find module".
 */
export function requireEntryFile(entries: CodeEntryList, facts: ImageFacts, image: string): void {
  const entry = entryFileOf(facts);
  if (entry === undefined) return;
  if (entries.some((e) => e.path === entry && e.kind !== "dir")) return;
  const command = [...facts.entrypoint, ...facts.cmd].join(" ");
  throw new ValidationError(
    `The code has no '${entry}', which the image ${image} runs by default (${command}); add '${entry}' to the code, or give a \`command\` that runs your entry file.`,
    { details: { field: "code", missing: entry } },
  );
}
