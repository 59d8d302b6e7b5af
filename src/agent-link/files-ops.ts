import { z } from "zod";
import type { CodeEntry } from "../code/code-entry.ts";
import { checkCodePath } from "../code/code-files.ts";
import { checkSymlinkTarget } from "../code/symlink-target.ts";

/**
 * What an API server may ask of a node agent about a workload's files on its
 * node (the WorkloadFiles port, less the two paths, which the API side knows
 * from the agents' common root): each operation with the zod schema of its
 * arguments — checked by the agent before anything is written — and of its
 * answer, checked by the API side.
 *
 * The agent holds root on its node, so it takes no API server's word for a
 * path: ids must be berth container ids, release numbers positive integers,
 * and every entry of a release passes the very checks berth gives an upload
 * (checkCodePath, checkSymlinkTarget: no absolute path, no `..`, no link out
 * of the release), plus the list's own (no path twice, nothing under a file
 * or a link). File contents travel as binary (Socket.IO attachments).
 */

/** A berth container id (containers/container-id.ts; a unit test keeps the two in step). */
export const WORKLOAD_ID_PATTERN = /^C[0-9A-HJKMNP-TV-Z]{11}$/;

/**
 * The agent's own caps on one release, whatever the API servers allow
 * (BERTH_MAX_CODE_BYTES, BERTH_MAX_CODE_FILES: 8 MiB and 10 000 by default):
 * generous, and below the 100 MiB a WebSocket frame may carry to the agent
 * (ws's default maxPayload), which one file's attachment must fit in.
 */
export const AGENT_MAX_CODE_BYTES = 64 * 1024 * 1024;
export const AGENT_MAX_CODE_FILES = 100_000;

/** A write of a large release to a busy disk, then its fsync. */
const WRITE_TIMEOUT_MS = 120_000;
const DEFAULT_TIMEOUT_MS = 30_000;

const WorkloadId = z.string().regex(WORKLOAD_ID_PATTERN, "must be a berth container id");
const ReleaseNumber = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);

const EntryPath = z.string().superRefine((path, ctx) => {
  const problem = checkCodePath(path);
  if (problem) ctx.addIssue({ code: "custom", message: `the code path ${problem}` });
});

/** A file's bytes as Socket.IO hands them over (a Buffer in Node.js; an ArrayBuffer from elsewhere). */
const Content = z
  .custom<Uint8Array | ArrayBuffer>(
    (b) => b instanceof Uint8Array || b instanceof ArrayBuffer,
    "must be binary",
  )
  .transform((b) =>
    b instanceof ArrayBuffer ? Buffer.from(b) : Buffer.from(b.buffer, b.byteOffset, b.byteLength),
  );

const Entry = z.discriminatedUnion("kind", [
  z.strictObject({
    kind: z.literal("file"),
    path: EntryPath,
    content: Content,
    mode: z.union([z.literal(0o644), z.literal(0o755)]),
  }),
  z.strictObject({ kind: z.literal("dir"), path: EntryPath }),
  z.strictObject({ kind: z.literal("symlink"), path: EntryPath, target: z.string().max(4096) }),
]);

/** A release's entries, checked as a whole: see checkEntryList. */
export const EntriesSchema = z.array(Entry).max(AGENT_MAX_CODE_FILES).superRefine(checkEntryList);

/**
 * What only the whole list shows: the total size, a path given twice, and a
 * path below a file or a link (writing `a/x` after a link `a → /etc` is how a
 * release would write outside itself, were the links written first).
 */
function checkEntryList(entries: readonly CodeEntry[], ctx: z.RefinementCtx): void {
  const kinds = new Map<string, CodeEntry["kind"]>();
  let bytes = 0;
  for (const [i, entry] of entries.entries()) {
    if (entry.kind === "file") bytes += entry.content.byteLength;
    if (kinds.has(entry.path)) ctx.addIssue({ code: "custom", path: [i, "path"], message: "is given twice" });
    kinds.set(entry.path, entry.kind);
    if (entry.kind === "symlink") {
      const problem = checkSymlinkTarget(entry.path, entry.target);
      if (problem)
        ctx.addIssue({ code: "custom", path: [i, "target"], message: `the link target ${problem}` });
    }
  }
  if (bytes > AGENT_MAX_CODE_BYTES)
    ctx.addIssue({
      code: "custom",
      message: `the release is larger than the agent's ${AGENT_MAX_CODE_BYTES} bytes`,
    });
  for (const [i, { path }] of entries.entries()) {
    for (let end = path.indexOf("/"); end > 0; end = path.indexOf("/", end + 1)) {
      const kind = kinds.get(path.slice(0, end));
      if (kind !== undefined && kind !== "dir")
        ctx.addIssue({ code: "custom", path: [i, "path"], message: `lies below a ${kind}` });
    }
  }
}

interface OpSchema<Args extends z.ZodType, Answer extends z.ZodType> {
  args: Args;
  answer: Answer;
  timeoutMs: number;
}

const op = <Args extends z.ZodType, Answer extends z.ZodType>(
  args: Args,
  answer: Answer,
  timeoutMs = DEFAULT_TIMEOUT_MS,
): OpSchema<Args, Answer> => ({ args, answer, timeoutMs });

export const FILES_OPS = {
  layOut: op(z.tuple([WorkloadId, EntriesSchema.nullable()]), z.null(), WRITE_TIMEOUT_MS),
  writeRelease: op(z.tuple([WorkloadId, ReleaseNumber, EntriesSchema]), z.null(), WRITE_TIMEOUT_MS),
  switchRelease: op(z.tuple([WorkloadId, ReleaseNumber]), z.null()),
  currentRelease: op(z.tuple([WorkloadId]), ReleaseNumber.nullable()),
  removeRelease: op(z.tuple([WorkloadId, ReleaseNumber]), z.null()),
  removeAll: op(z.tuple([WorkloadId]), z.null()),
  sweepCrashLeftovers: op(z.tuple([WorkloadId]), z.array(z.string().max(512)).max(10_000)),
} as const;

export type FilesOp = keyof typeof FILES_OPS;
export type FilesArgsOf<O extends FilesOp> = z.input<(typeof FILES_OPS)[O]["args"]>;
export type ParsedFilesArgsOf<O extends FilesOp> = z.output<(typeof FILES_OPS)[O]["args"]>;
export type FilesAnswerOf<O extends FilesOp> = z.output<(typeof FILES_OPS)[O]["answer"]>;

export function isFilesOp(name: string): name is FilesOp {
  return Object.hasOwn(FILES_OPS, name);
}
