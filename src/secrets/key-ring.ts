import { randomBytes } from "node:crypto";
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  writeSync,
} from "node:fs";
import { dirname } from "node:path";
import { SecretKeyError } from "./secret-key-error.ts";

/** AES-256: 32 bytes of key. */
const KEY_BYTES = 32;
const IN_MEMORY = "(in memory)";

export interface SecretKey {
  /** Short and random; every sealed value names the key that sealed it. */
  readonly id: string;
  readonly key: Buffer;
}

interface KeyFile {
  version: 1;
  current: string;
  keys: Array<{ id: string; key: string }>;
}

/**
 * The keys that seal secret values at rest, kept in one file outside the data
 * directory (so a backup or copy of the data directory carries no way to read
 * them). The file holds several keys during a rotation, one of them marked
 * current: new values are sealed with it, old ones are still readable until
 * they have been re-sealed.
 *
 * The file must be the process owner's and unreadable by group and others;
 * berth refuses it otherwise rather than use a key others may have copied.
 */
export class KeyRing {
  readonly path: string;
  readonly current: SecretKey;
  readonly #byId: ReadonlyMap<string, SecretKey>;

  private constructor(path: string, current: SecretKey, keys: readonly SecretKey[]) {
    this.path = path;
    this.current = current;
    this.#byId = new Map(keys.map((k) => [k.id, k]));
  }

  /** The key with this id, if the ring holds it. */
  get(id: string): SecretKey | undefined {
    return this.#byId.get(id);
  }

  get ids(): string[] {
    return [...this.#byId.keys()];
  }

  /** Whether the key file exists (at all: a file berth may not read still exists). */
  static exists(path: string): boolean {
    try {
      statSync(path);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
      throw err;
    }
  }

  /** Reads the key file, after checking that only its owner can read it. */
  static load(path: string): KeyRing {
    checkPermissions(path);
    let file: KeyFile;
    try {
      file = JSON.parse(readFileSync(path, "utf8")) as KeyFile;
    } catch (err) {
      throw new SecretKeyError(`${path} is not a berth key file (it does not parse).`, { cause: err });
    }
    const keys = Array.isArray(file?.keys) ? file.keys.map(toKey(path)) : [];
    const current = keys.find((k) => k.id === file.current);
    if (file?.version !== 1 || !current) {
      throw new SecretKeyError(`${path} is not a berth key file (no current key).`);
    }
    return new KeyRing(path, current, keys);
  }

  /**
   * Makes a key file with one new key, mode 0600, in a directory made 0700
   * if it is missing. Refuses to replace an existing file.
   */
  static create(path: string): KeyRing {
    const key = newKey();
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    writeKeyFile(path, { version: 1, current: key.id, keys: [encode(key)] }, "wx");
    return new KeyRing(path, key, [key]);
  }

  /** A ring of one fresh key that lives in memory only: for unit tests, whose stores are thrown away. */
  static ephemeral(): KeyRing {
    const key = newKey();
    return new KeyRing(IN_MEMORY, key, [key]);
  }

  /** A ring with a new key added beside the others; the current key stays current. Written to the file. */
  addNewKey(): { ring: KeyRing; added: SecretKey } {
    let added = newKey();
    while (this.#byId.has(added.id)) added = newKey();
    const keys = [...this.#byId.values(), added];
    writeKeyFile(this.path, { version: 1, current: this.current.id, keys: keys.map(encode) });
    return { ring: new KeyRing(this.path, this.current, keys), added };
  }

  /** A ring holding `id` alone, now current (the others are dropped). Written to the file. */
  retireAllBut(id: string): KeyRing {
    const key = this.#byId.get(id);
    if (!key) throw new SecretKeyError(`the key ${id} is not in ${this.path}.`);
    writeKeyFile(this.path, { version: 1, current: key.id, keys: [encode(key)] });
    return new KeyRing(this.path, key, [key]);
  }
}

function newKey(): SecretKey {
  return { id: randomBytes(4).toString("hex"), key: randomBytes(KEY_BYTES) };
}

function encode(k: SecretKey): { id: string; key: string } {
  return { id: k.id, key: k.key.toString("base64") };
}

function toKey(path: string) {
  return (entry: { id?: unknown; key?: unknown }): SecretKey => {
    const key = typeof entry?.key === "string" ? Buffer.from(entry.key, "base64") : Buffer.alloc(0);
    if (typeof entry?.id !== "string" || !/^[0-9a-f]{8}$/.test(entry.id) || key.length !== KEY_BYTES) {
      throw new SecretKeyError(`${path} holds a malformed key.`);
    }
    return { id: entry.id, key };
  };
}

function checkPermissions(path: string): void {
  let stat: ReturnType<typeof statSync>;
  try {
    stat = statSync(path);
  } catch (err) {
    throw new SecretKeyError(`cannot read ${path} (${(err as NodeJS.ErrnoException).code}).`, { cause: err });
  }
  if (!stat.isFile()) throw new SecretKeyError(`${path} is not a file.`);
  if ((stat.mode & 0o077) !== 0) {
    throw new SecretKeyError(
      `${path} can be read or written by others (mode ${(stat.mode & 0o777).toString(8)}); make it 0600 (chmod 600 ${path}).`,
    );
  }
  if (typeof process.getuid === "function" && stat.uid !== process.getuid()) {
    throw new SecretKeyError(`${path} belongs to uid ${stat.uid}, not to the user berth runs as.`);
  }
}

/**
 * Writes the whole file beside the old one and renames it over, after an
 * fsync: a crash leaves the old ring or the new one, never half of either —
 * losing the key file would lose every secret sealed with it.
 */
function writeKeyFile(path: string, content: KeyFile, flag: "wx" | "replace" = "replace"): void {
  if (path === IN_MEMORY) throw new SecretKeyError("an in-memory key ring has no file to change.");
  const text = `${JSON.stringify(content, null, 2)}\n`;
  if (flag === "wx") {
    let fd: number;
    try {
      fd = openSync(path, "wx", 0o600);
    } catch (err) {
      throw new SecretKeyError(`cannot create ${path} (${(err as NodeJS.ErrnoException).code}).`, {
        cause: err,
      });
    }
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    return;
  }
  const temp = `${path}.${process.pid}.tmp`;
  const fd = openSync(temp, "wx", 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, path);
}
