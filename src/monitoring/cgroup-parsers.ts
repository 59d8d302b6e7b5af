import { CgroupUnavailableError } from "./cgroup-unavailable-error.ts";

/*
 * Parsers for the kernel's cgroup and procfs counter files. They run on every
 * sample of every container, so they scan with indexOf and charCodeAt rather
 * than regular expressions and build no intermediate arrays of lines.
 */

/** A file holding one number (`memory.usage_in_bytes`, `cpuacct.usage`, `pids.current`). */
export function parseCount(text: string, file: string): number {
  const value = Number(text); // Number() ignores the trailing newline.
  if (!Number.isFinite(value) || text.trim() === "") throw new CgroupUnavailableError(`unexpected ${file}`);
  return value;
}

/** `memory.max`: a number, or "max" for no limit (undefined). */
export function parseMemoryMax(text: string): number | undefined {
  if (text.startsWith("max")) return undefined;
  return parseCount(text, "memory.max");
}

/**
 * The value of `key` in a flat-keyed file of `key value` lines (`memory.stat`,
 * `cpu.stat`); undefined when the key is absent. Matches whole keys only, so
 * `inactive_file` does not find `total_inactive_file`.
 */
export function statValue(text: string, key: string): number | undefined {
  let from = 0;
  for (;;) {
    const at = text.indexOf(key, from);
    if (at < 0) return undefined;
    const end = at + key.length;
    if ((at === 0 || text.charCodeAt(at - 1) === NEWLINE) && text.charCodeAt(end) === SPACE) {
      const lineEnd = text.indexOf("\n", end);
      const value = Number(text.slice(end + 1, lineEnd < 0 ? text.length : lineEnd));
      return Number.isFinite(value) ? value : undefined;
    }
    from = end;
  }
}

export interface ByteTotals {
  read: number;
  write: number;
}

/**
 * v1 `blkio.*io_service_bytes`: `maj:min Op bytes` per device and operation
 * (Read, Write, Sync, Async, Discard, Total), then a bare `Total bytes` line.
 * Sums Read and Write over the devices, as `docker stats` does.
 */
export function sumBlkioV1(text: string): ByteTotals {
  const totals = { read: 0, write: 0 };
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf("\n", start);
    if (end < 0) end = text.length;
    const opStart = text.indexOf(" ", start) + 1;
    const opEnd = opStart > 0 ? text.indexOf(" ", opStart) : -1;
    if (opEnd > 0 && opEnd < end) {
      const op = text.slice(opStart, opEnd);
      if (op === "Read") totals.read += Number(text.slice(opEnd + 1, end)) || 0;
      else if (op === "Write") totals.write += Number(text.slice(opEnd + 1, end)) || 0;
    }
    start = end + 1;
  }
  return totals;
}

/** v2 `io.stat`: `maj:min rbytes=N wbytes=N rios=N …` per device; sums rbytes and wbytes. */
export function sumIoStatV2(text: string): ByteTotals {
  return { read: sumField(text, " rbytes="), write: sumField(text, " wbytes=") };
}

function sumField(text: string, marker: string): number {
  let total = 0;
  for (let at = text.indexOf(marker); at >= 0; at = text.indexOf(marker, at + 1)) {
    const from = at + marker.length;
    let to = from;
    while (to < text.length && text.charCodeAt(to) >= DIGIT_0 && text.charCodeAt(to) <= DIGIT_9) to++;
    total += Number(text.slice(from, to)) || 0;
  }
  return total;
}

export interface NetTotals {
  rx: number;
  tx: number;
}

/**
 * `/proc/<pid>/net/dev` of the container's network namespace: two header
 * lines, then `iface: rx_bytes rx_packets … (8 receive fields) tx_bytes …`.
 * Sums every interface but loopback, as the engine's per-endpoint counters do;
 * a container with network "none" has only `lo` and reads 0. Large counters
 * can touch the colon (`eth0:123456789012`), so fields are cut after it.
 */
export function sumNetDev(text: string): NetTotals {
  const totals = { rx: 0, tx: 0 };
  let start = text.indexOf("\n", text.indexOf("\n") + 1) + 1;
  while (start > 0 && start < text.length) {
    let end = text.indexOf("\n", start);
    if (end < 0) end = text.length;
    const colon = text.indexOf(":", start);
    if (colon > 0 && colon < end && text.slice(start, colon).trim() !== "lo") {
      const rx = nthField(text, colon + 1, end, 0);
      const tx = nthField(text, colon + 1, end, 8);
      totals.rx += rx;
      totals.tx += tx;
    }
    start = end + 1;
  }
  return totals;
}

/** The n-th space-separated number in text[from, to). */
function nthField(text: string, from: number, to: number, n: number): number {
  let i = from;
  for (let field = 0; i < to; field++) {
    while (i < to && text.charCodeAt(i) === SPACE) i++;
    const fieldStart = i;
    while (i < to && text.charCodeAt(i) !== SPACE) i++;
    if (field === n) return Number(text.slice(fieldStart, i)) || 0;
  }
  return 0;
}

const NEWLINE = 10;
const SPACE = 32;
const DIGIT_0 = 48;
const DIGIT_9 = 57;
