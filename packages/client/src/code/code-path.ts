/**
 * Why berth would refuse `path` as a code path, or undefined when it is
 * acceptable. The same rules as the server's own check, so a folder is
 * refused here, naming the file, rather than after the upload.
 */
export function checkCodePath(path: string): string | undefined {
  if (path.length === 0) return "is empty";
  if (path.length > 1024) return "is longer than 1024 characters";
  if (path.includes("\\")) return "contains a backslash";
  for (const segment of path.split("/")) {
    if (segment === "" || segment === "." || segment === "..") return "has an empty, '.' or '..' segment";
    if (new TextEncoder().encode(segment).length > 255) return "has a segment longer than 255 bytes";
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(path)) return "contains a control character";
  return undefined;
}
