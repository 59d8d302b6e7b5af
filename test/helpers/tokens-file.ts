import { chmodSync, renameSync, writeFileSync } from "node:fs";

/**
 * Writes a tokens file the way an editor saves one: a new file beside it,
 * mode 0600, renamed over the old one (so a watch on the old inode would miss
 * it). `inPlace` rewrites the same inode instead.
 */
export function writeTokensFile(file: string, text: string, how: "replace" | "inPlace" = "replace"): void {
  if (how === "inPlace") {
    writeFileSync(file, text);
    chmodSync(file, 0o600);
    return;
  }
  const next = `${file}.new`;
  writeFileSync(next, text, { mode: 0o600 });
  chmodSync(next, 0o600);
  renameSync(next, file);
}
