/** One thing found in a code folder, ready to be sent: paths are relative and `/`-separated. */
export type CodeEntry =
  | { kind: "file"; path: string; content: Uint8Array; executable: boolean }
  | { kind: "dir"; path: string }
  | { kind: "symlink"; path: string; target: string };
