import type { Command } from "commander";
import { addJsonOption, contextOf } from "../command-context.ts";
import { parseDuration } from "../parse/duration.ts";
import { parseJsonArgument } from "../parse/json-argument.ts";
import { readStdin } from "../read-stdin.ts";

interface RequestFlags {
  timeout?: number;
}

async function jsonArgument(text: string): Promise<unknown> {
  return parseJsonArgument(text === "-" ? await readStdin() : text, "JSON");
}

/** `berth send NAME JSON` and `berth request NAME JSON`: a message to the workload, without and with an answer. */
export function registerMessages(program: Command): void {
  const send = program
    .command("send")
    .description("send a JSON message to a container's workload (no answer)")
    .argument("<name>", "the container")
    .argument("<json>", "the message, as JSON (or - to read it from standard input)");
  send.addHelpText(
    "after",
    `
Examples:
  $ berth send web '{"reload": true}'
  $ echo '"hello"' | berth send web -`,
  );
  send.action(async (name: string, json: string, _opts: object, command: Command) => {
    const { client } = contextOf<object>(command);
    const data = await jsonArgument(json);
    await client(async (berth) => (await berth.containers.get(name)).send(data));
  });

  const request = program
    .command("request")
    .description("send a JSON request to a container's workload and print its answer as JSON")
    .argument("<name>", "the container")
    .argument("<json>", "the request, as JSON (or - to read it from standard input)")
    .option("--timeout <duration>", "how long to wait for the answer, e.g. 5s (default: berth's)", (v) =>
      parseDuration(v, "--timeout"),
    );
  addJsonOption(request, "the answer on one line");
  request.addHelpText(
    "after",
    `
Examples:
  $ berth request web '{"ping": 1}'
  $ berth request web '{"sum": [1, 2]}' --timeout 5s | jq .`,
  );
  request.action(async (name: string, json: string, _opts: RequestFlags, command: Command) => {
    const { flags, out, client } = contextOf<RequestFlags>(command);
    const data = await jsonArgument(json);
    const answer = await client(async (berth) =>
      (await berth.containers.get(name)).request(data, {
        ...(flags.timeout !== undefined ? { timeoutMs: flags.timeout } : {}),
      }),
    );
    // The answer is JSON either way; --json makes it one line, for NDJSON-minded scripts.
    if (flags.json) out.jsonLine(answer ?? null);
    else out.jsonDocument(answer ?? null);
  });
}
