import {
  chmodSync,
  existsSync,
  mkdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";

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

/**
 * Publishes a tokens file the way Kubernetes (kubelet's atomic writer) and
 * Vault Agent update a mounted secret: each version in a directory of its own,
 * `..data` a symlink to the current one, and `dir/tokens` a symlink to
 * `..data/tokens`. A new version is a new directory and a new symlink renamed
 * over `..data` — `dir/tokens` itself is never touched.
 */
export function publishTokensVersion(dir: string, version: string, text: string): void {
  const versionDir = `..${version}`;
  const previous = existsSync(join(dir, "..data")) ? readlinkSync(join(dir, "..data")) : undefined;
  mkdirSync(join(dir, versionDir), { mode: 0o700 });
  writeFileSync(join(dir, versionDir, "tokens"), text, { mode: 0o600 });
  chmodSync(join(dir, versionDir, "tokens"), 0o600);
  symlinkSync(versionDir, join(dir, "..data_tmp"));
  renameSync(join(dir, "..data_tmp"), join(dir, "..data"));
  if (!existsSync(join(dir, "tokens"))) symlinkSync("..data/tokens", join(dir, "tokens"));
  if (previous) rmSync(join(dir, previous), { recursive: true, force: true });
}
