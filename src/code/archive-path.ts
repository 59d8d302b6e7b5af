/** `tar -C dir .` writes the release root itself as `./`; it has nothing to create. */
export function isArchiveRoot(name: string): boolean {
  return name === "." || name === "./";
}

/**
 * Turns a member name as tar writes it into a release path. Tar commonly
 * writes `./a` and `dir/`, so exactly one leading `./` (and a directory's one
 * trailing `/`) is removed; anything else unusual is left for checkCodePath to
 * refuse, since a name that needs more cleaning is a name someone is trying
 * something with.
 */
export function normaliseArchivePath(name: string, isDir: boolean): string {
  const path = name.startsWith("./") ? name.slice(2) : name;
  return isDir && path.endsWith("/") ? path.slice(0, -1) : path;
}
