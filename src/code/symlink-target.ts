import { checkCodePath } from "./code-files.ts";

/**
 * Checks that a symlink at `linkPath` (a checked release path) points inside
 * the release; returns the problem, or undefined when it is safe.
 *
 * Stricter than resolving the target lexically: `..` may only lead the target
 * (`../lib/x`), never follow a name. With `d -> .`, the target `d/../x` looks
 * like `x` but the kernel resolves it as the release's parent plus `x`. With
 * `..` only at the front, each link climbs through real directories (nothing is
 * written through a symlink) and then only descends, so by induction every
 * chain of links stays inside.
 */
export function checkSymlinkTarget(linkPath: string, target: string): string | undefined {
  if (target.length === 0) return "is empty";
  if (target.startsWith("/")) return "is absolute";
  let rest = target.endsWith("/") ? target.slice(0, -1) : target;
  let up = 0;
  while (rest === ".." || rest.startsWith("../")) {
    up++;
    rest = rest.slice(3);
  }
  // The link's own directory is `depth` levels below the release root.
  const depth = linkPath.split("/").length - 1;
  if (up > depth) return "points outside the release";
  if (rest.length === 0) return up > 0 ? undefined : "is empty";
  // `ln -s ./x` and a link to its own directory are common and harmless.
  if (rest === "." && up === 0) return undefined;
  if (rest.startsWith("./")) rest = rest.slice(2);
  const problem = checkCodePath(rest);
  if (problem === "contains '..'") return "has a '..' after a name (it could climb out through another link)";
  return problem;
}
