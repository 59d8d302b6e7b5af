import type { LogLine } from "@berth/client";
import type { Command } from "commander";
import { addJsonOption, contextOf } from "../command-context.ts";
import { untilInterrupted } from "../interrupt.ts";
import { formatTime } from "../output/format.ts";
import type { Output } from "../output/output.ts";
import { parseDuration } from "../parse/duration.ts";
import { parseWholeNumber } from "../parse/numbers.ts";

interface LogsFlags {
  follow?: boolean;
  tail?: number;
  since?: number;
  timestamps?: boolean;
}

/** `berth logs NAME [-f] [--tail N]`: what the workload printed, then (with -f) what it prints. */
export function registerLogs(program: Command): void {
  const cmd = program
    .command("logs")
    .description("print a container's output (stdout on stdout, stderr on stderr)")
    .argument("<name>", "the container")
    .option("-f, --follow", "keep printing new lines until Ctrl-C")
    .option("-n, --tail <n>", "only the last N lines", (v) => parseWholeNumber(v, "--tail", 0))
    .option("--since <duration>", "only lines from the last duration, e.g. 10m", (v) =>
      parseDuration(v, "--since"),
    )
    .option("-t, --timestamps", "show when each line was printed");
  addJsonOption(cmd, "one JSON object per line ({ stream, ts, text }, NDJSON)");
  cmd.addHelpText(
    "after",
    `
Examples:
  $ berth logs web --tail 100
  $ berth logs web -f
  $ berth logs web --since 10m --json | jq -r .text`,
  );
  cmd.action(async (name: string, _opts: LogsFlags, command: Command) => {
    const { flags, out, client } = contextOf<LogsFlags>(command);
    const print = (line: LogLine) => printLine(out, line, flags);
    await client(
      async (berth) => {
        const container = await berth.containers.get(name);
        if (!flags.follow) {
          const lines = await container.logs({
            ...(flags.tail !== undefined && flags.tail > 0 ? { tail: flags.tail } : {}),
            ...(flags.since !== undefined ? { since: Date.now() - flags.since } : {}),
          });
          for (const line of flags.tail === 0 ? [] : lines) print(line);
          return;
        }
        const follow = container.followLogs(flags.tail !== undefined ? { tail: flags.tail } : {});
        // Like `docker logs -f`, the follow ends with the container's output: once it is stopped or
        // removed, or has exited for good (with a restart policy it comes back, and so do its lines).
        const stopFollowing = berth.on("container:status_changed", (event) => {
          if (event.id === container.id && outputEnded(event.to, container.info.restartPolicy))
            void follow.return?.();
        });
        try {
          await untilInterrupted(
            () => berth.close(),
            async () => {
              for await (const line of follow) print(line);
            },
          );
        } finally {
          stopFollowing();
        }
      },
      { longLived: flags.follow === true },
    );
  });
}

/** Whether a container in state `to` will print no more (until someone starts it again). */
export function outputEnded(to: string, restartPolicy: string): boolean {
  return (
    to === "stopped" || to === "removing" || to === "missing" || (to === "exited" && restartPolicy === "no")
  );
}

function printLine(out: Output, line: LogLine, flags: LogsFlags): void {
  if (out.json) {
    out.jsonLine({ stream: line.stream, ts: line.ts, text: line.text });
    return;
  }
  const text = flags.timestamps ? `${formatTime(line.ts)} ${line.text}` : line.text;
  if (line.stream === "stderr") out.errLine(text);
  else out.line(text);
}
