import { type ContainerSpec, RUNTIMES } from "@berth/client";
import { type Command, Option } from "commander";
import { addJsonOption, contextOf } from "../command-context.ts";
import { formatMs } from "../output/format.ts";
import { StepsDisplay } from "../output/steps-display.ts";
import { parseKeyValue } from "../parse/key-value.ts";
import { parseCpus } from "../parse/numbers.ts";
import { parseSecretEnv, parseSecretEnvFile } from "../parse/secret-env.ts";
import { parseMemoryMb } from "../parse/size.ts";
import { readCode } from "../read-code.ts";

interface CreateFlags {
  code: string;
  runtime?: "node" | "python";
  image?: string;
  env?: Record<string, string>;
  secretEnv?: Record<string, string>;
  secretEnvFile?: Record<string, string>;
  label?: Record<string, string>;
  memory?: number;
  cpus?: number;
  restart?: "no" | "on-failure" | "always";
  network?: "none" | "outbound";
  wait: boolean;
  start: boolean;
}

/** `berth create NAME --code DIR`: a container from a folder, started and waited for unless told not to. */
export function registerCreate(program: Command): void {
  const cmd = program
    .command("create")
    .description("create a container from a folder of code, start it and wait until it is ready")
    .argument("<name>", "the container's name (lower-case letters, digits, '_', '.', '-')")
    .requiredOption("--code <dir>", "the folder with the workload's code (honours .berthignore)")
    .addOption(
      new Option(
        "--runtime <runtime>",
        "the language runtime: runs the code's index.js (node, the default) or main.py (python)",
      ).choices(RUNTIMES),
    )
    .option("--image <image>", "an allowed custom image instead of the runtime's (see berth info)")
    .option("-e, --env <key=value>", "an environment variable (repeatable)", (v, p) =>
      parseKeyValue(v, "--env", p as Record<string, string>),
    )
    .option(
      "--secret-env <key>",
      "a secret environment variable, never shown back, its value taken from this environment (repeatable; KEY=VALUE works too, but shows in ps and your shell's history)",
      (v, p) => parseSecretEnv(v, p as Record<string, string>),
    )
    .option(
      "--secret-env-file <file>",
      "secret environment variables from a file of KEY=VALUE lines (repeatable; --secret-env wins)",
      (v, p) => parseSecretEnvFile(v, p as Record<string, string>),
    )
    .option("-l, --label <key=value>", "a label (repeatable)", (v, p) =>
      parseKeyValue(v, "--label", p as Record<string, string>),
    )
    .option("-m, --memory <size>", "memory limit, e.g. 128m or 1g", (v) => parseMemoryMb(v, "--memory"))
    .option("--cpus <n>", "CPU limit in cores, e.g. 0.5", (v) => parseCpus(v, "--cpus"))
    .addOption(
      new Option("--restart <policy>", "restart policy").choices(["no", "on-failure", "always"] as const),
    )
    .addOption(new Option("--network <mode>", "network access").choices(["none", "outbound"] as const))
    .option("--no-wait", "do not wait for the workload to be ready")
    .option("--no-start", "create the container without starting it");
  addJsonOption(cmd, "the created container as one JSON document");
  cmd.addHelpText(
    "after",
    `
Examples:
  $ berth create web --code ./app
  $ berth create py-bot --runtime python --code ./bot      # runs ./bot/main.py
  $ API_KEY="$(cat api-key)" berth create worker --code ./worker -e LOG_LEVEL=debug \\
      --secret-env API_KEY --memory 256m --cpus 0.5 --restart on-failure
  $ berth create db-client --code ./app --secret-env-file ./secrets.env`,
  );
  cmd.action(async (name: string, _opts: CreateFlags, command: Command) => {
    const { flags, out, client } = contextOf<CreateFlags>(command);
    await client(async (berth) => {
      const spec: ContainerSpec = {
        name,
        code: await readCode(berth, flags.code, "--code"),
        ...(flags.runtime !== undefined ? { runtime: flags.runtime } : {}),
        ...(flags.image !== undefined ? { image: flags.image } : {}),
        ...(flags.env !== undefined ? { env: flags.env } : {}),
        ...(flags.secretEnv !== undefined || flags.secretEnvFile !== undefined
          ? { secretEnv: { ...flags.secretEnvFile, ...flags.secretEnv } }
          : {}),
        ...(flags.label !== undefined ? { labels: flags.label } : {}),
        ...(flags.restart !== undefined ? { restartPolicy: flags.restart } : {}),
        ...(flags.network !== undefined ? { network: flags.network } : {}),
        ...(flags.memory !== undefined || flags.cpus !== undefined
          ? {
              resources: {
                ...(flags.memory !== undefined ? { memoryMb: flags.memory } : {}),
                ...(flags.cpus !== undefined ? { cpus: flags.cpus } : {}),
              },
            }
          : {}),
        start: flags.start,
        waitReady: flags.start && flags.wait,
      };
      const steps = new StepsDisplay(out);
      let created: Awaited<ReturnType<typeof berth.containers.create>>;
      try {
        created = await berth.containers.create(spec, { onProgress: steps.onProgress });
      } finally {
        steps.close();
      }
      // berth never answers with secret values (ContainerInfo has no env), so the answer is safe to print whole.
      const info = created.info;
      if (flags.json) return out.jsonDocument(info);
      const total =
        "timings" in info ? ` in ${formatMs((info as { timings: { total: number } }).timings.total)}` : "";
      out.line(
        `${out.color.green(info.name)} created (${info.id}): ${info.state}, release ${info.release ?? "-"}${total}`,
      );
    });
  });
}
