import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import type { CgroupFile, CgroupFs } from "../cgroup-fs.ts";

type Content = string | (() => string);

/**
 * An in-memory CgroupFs for unit tests, usually loaded from a fixture tree
 * under `fixtures/cgroup/`. Files can be replaced by functions (a CPU counter
 * that follows the fake clock), removed (a restarted container: an open file
 * whose path is gone then reads ENODEV, as one of a removed cgroup does) or
 * made to fail with an errno code (EACCES). `reads` records every path read,
 * `openFiles` the paths open now.
 */
export class MemoryCgroupFs implements CgroupFs {
  readonly files = new Map<string, Content>();
  readonly failures = new Map<string, string>();
  readonly reads: string[] = [];
  readonly openFiles: string[] = [];

  static async fromFixture(name: string): Promise<MemoryCgroupFs> {
    const root = join(import.meta.dirname, "..", "fixtures", "cgroup", name);
    const fs = new MemoryCgroupFs();
    for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile()) continue;
      const path = join(entry.parentPath, entry.name);
      fs.files.set(`/${relative(root, path)}`, await readFile(path, "utf8"));
    }
    return fs;
  }

  set(path: string, content: Content): void {
    this.files.set(path, content);
  }

  /** Moves every file under `from` to `to`, as when a restarted container gets a new pid. */
  move(from: string, to: string): void {
    for (const [path, content] of [...this.files]) {
      if (!path.startsWith(from)) continue;
      this.files.delete(path);
      this.files.set(to + path.slice(from.length), content);
    }
  }

  /** The one path that ends with `suffix`, e.g. "/cpuacct.usage". */
  find(suffix: string): string {
    const matches = [...this.files.keys()].filter((path) => path.endsWith(suffix));
    if (matches.length !== 1) throw new Error(`${matches.length} fixture files end with ${suffix}`);
    return matches[0]!;
  }

  async readFile(path: string): Promise<string> {
    return this.#read(path, "ENOENT");
  }

  async open(path: string): Promise<CgroupFile> {
    const code = this.failures.get(path) ?? (this.files.has(path) ? undefined : "ENOENT");
    if (code !== undefined) throw errno(code, path);
    this.openFiles.push(path);
    let open = true;
    return {
      read: async () => {
        if (!open) throw errno("EBADF", path);
        return this.#read(path, "ENODEV");
      },
      close: () => {
        if (!open) return;
        open = false;
        this.openFiles.splice(this.openFiles.indexOf(path), 1);
      },
    };
  }

  #read(path: string, missing: string): string {
    this.reads.push(path);
    const code = this.failures.get(path);
    if (code !== undefined) throw errno(code, path);
    const content = this.files.get(path);
    if (content === undefined) throw errno(missing, path);
    return typeof content === "function" ? content() : content;
  }
}

function errno(code: string, path: string): Error {
  return Object.assign(new Error(`${code}: ${path}`), { code });
}
