import type { CodeEntryList } from "./code-entry.ts";

/** Every directory a list of entries needs: those listed and every parent of any path, sorted parents first. */
export function parentDirs(entries: CodeEntryList): { all: string[]; implied: Set<string> } {
  const implied = new Set<string>();
  for (const { path } of entries) {
    // Deepest first, stopping at a known one: its parents are known too.
    for (let end = path.lastIndexOf("/"); end > 0; end = path.lastIndexOf("/", end - 1)) {
      const parent = path.slice(0, end);
      if (implied.has(parent)) break;
      implied.add(parent);
    }
  }
  const all = new Set(implied);
  for (const entry of entries) if (entry.kind === "dir") all.add(entry.path);
  // A parent is a prefix of its children, so it sorts before them.
  return { all: [...all].sort(), implied };
}
