/**
 * One thing a release directory holds, whichever way the code arrived (a
 * `files` map or an archive). Paths are relative, '/'-separated and already
 * checked; parents that are not listed are created as plain directories.
 */
export type CodeEntry = CodeFile | CodeDir | CodeSymlink;

/** Files are written 0644, or 0755 when the archive gave any execute bit. */
export type FileMode = 0o644 | 0o755;

export interface CodeFile {
  path: string;
  kind: "file";
  content: Buffer;
  mode: FileMode;
}

export interface CodeDir {
  path: string;
  kind: "dir";
}

export interface CodeSymlink {
  path: string;
  kind: "symlink";
  /** As the archive spelled it; checked to resolve inside the release. */
  target: string;
}

export type CodeEntryList = readonly CodeEntry[];
