import { ValidationError } from "../errors/errors.ts";

export interface CodeLimits {
  maxBytes: number;
  maxFiles: number;
}

export interface CodeFileEntry {
  path: string;
  content: Buffer;
}

/**
 * Checks a relative path a client gave for a code file. Rejects, rather than
 * normalises, anything unusual: a path that needs cleaning is a path that
 * someone is trying something with.
 */
export function checkCodePath(path: string): string | undefined {
  if (path.length === 0) return "is empty";
  if (path.length > 1024) return "is longer than 1024 characters";
  if (path.includes("\0")) return "contains a NUL byte";
  if (path.includes("\\")) return "contains a backslash";
  if (path.startsWith("/")) return "is absolute";
  if (/^[A-Za-z]:/.test(path)) return "is absolute";
  for (const segment of path.split("/")) {
    if (segment === "..") return "contains '..'";
    if (segment === "" || segment === ".") return "has an empty or '.' segment";
    if (Buffer.byteLength(segment) > 255) return "has a segment longer than 255 bytes";
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(path)) return "contains a control character";
  return undefined;
}

/** Validates every path and the limits before a byte is written; the first problem is reported. */
export function validateCodeFiles(
  files: Record<string, string | Uint8Array>,
  limits: CodeLimits,
): CodeFileEntry[] {
  const entries: CodeFileEntry[] = [];
  const seen = new Set<string>();
  let total = 0;
  const paths = Object.keys(files);
  if (paths.length > limits.maxFiles) {
    throw new ValidationError(`Too many code files: at most ${limits.maxFiles} are allowed.`, {
      details: { field: "code.files", limit: limits.maxFiles },
    });
  }
  for (const path of paths) {
    const problem = checkCodePath(path);
    if (problem) {
      throw new ValidationError(`Code file path '${path.slice(0, 200)}' ${problem}.`, {
        details: { field: "code.files", path: path.slice(0, 200) },
      });
    }
    const value = files[path]!;
    const content =
      typeof value === "string"
        ? Buffer.from(value, "utf8")
        : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    total += content.byteLength;
    if (total > limits.maxBytes) {
      throw new ValidationError(`The code is larger than the limit of ${limits.maxBytes} bytes.`, {
        details: { field: "code.files", limit: limits.maxBytes },
      });
    }
    // A file and a directory of the same name cannot both exist.
    const prefixes = path
      .split("/")
      .slice(0, -1)
      .map((_, i, parts) => parts.slice(0, i + 1).join("/"));
    for (const p of prefixes) {
      if (Object.hasOwn(files, p)) {
        throw new ValidationError(`Code file path '${p}' is both a file and a directory.`, {
          details: { field: "code.files", path: p },
        });
      }
    }
    seen.add(path);
    entries.push({ path, content });
  }
  return entries;
}
