import type { Container, ContainerInfo } from "@berth/client";
import type { Command } from "commander";
import { EXIT } from "../cli-error.ts";
import { addJsonOption, contextOf } from "../command-context.ts";
import { printError } from "../output/print-error.ts";
import { StepsDisplay } from "../output/steps-display.ts";
import { parseDuration } from "../parse/duration.ts";

interface LifecycleFlags {
  time?: number;
  wait?: boolean;
}

type Act = (
  container: Container,
  flags: LifecycleFlags,
  steps: StepsDisplay,
) => Promise<ContainerInfo | undefined>;

const timeoutSec = (flags: LifecycleFlags) =>
  flags.time !== undefined ? { timeoutSec: Math.ceil(flags.time / 1000) } : {};

/** `berth start|stop|restart|rm NAME…`: one operation on each container named, in order, like docker's. */
export function registerLifecycle(program: Command): void {
  addLifecycleCommand(
    program,
    "start",
    "start containers and wait until they are ready",
    "berth start web worker",
    {
      act: (c, flags) => c.start({ waitReady: flags.wait !== false }),
      configure: (cmd) => cmd.option("--no-wait", "do not wait for the workload to be ready"),
    },
  );
  addLifecycleCommand(program, "stop", "stop containers", "berth stop web -t 10s", {
    act: (c, flags) => c.stop(timeoutSec(flags)),
    configure: stopTimeout,
  });
  addLifecycleCommand(
    program,
    "restart",
    "restart containers and wait until they are ready",
    "berth restart web",
    {
      act: (c, flags, steps) =>
        c.restart({ ...timeoutSec(flags), waitReady: flags.wait !== false, onProgress: steps.onProgress }),
      configure: (cmd) => stopTimeout(cmd).option("--no-wait", "do not wait for the workload to be ready"),
    },
  );
  addLifecycleCommand(
    program,
    "rm",
    "delete containers, their code and their releases",
    "berth rm web worker",
    {
      act: async (c) => {
        await c.delete();
        return undefined;
      },
      configure: (cmd) => cmd.alias("delete"),
    },
  );
}

function stopTimeout(cmd: Command): Command {
  return cmd.option(
    "-t, --time <duration>",
    "how long to wait for the workload to exit before killing it, e.g. 10s",
    (v) => parseDuration(v, "--time"),
  );
}

function addLifecycleCommand(
  program: Command,
  name: string,
  description: string,
  example: string,
  how: { act: Act; configure: (cmd: Command) => Command },
): void {
  const cmd = how.configure(
    program.command(name).description(description).argument("<names...>", "one or more containers"),
  );
  addJsonOption(cmd, "each container as berth answered, as one JSON array");
  cmd.addHelpText(
    "after",
    `
Each container is named on its own line once done; a failure is reported and the
others are still tried (exit status 1 if any failed).

Example:
  $ ${example}`,
  );
  cmd.action(async (names: string[], _opts: LifecycleFlags, command: Command) => {
    const { flags, out, client } = contextOf<LifecycleFlags>(command);
    const results: (ContainerInfo | { name: string; deleted: true })[] = [];
    let failed = false;
    await client(async (berth) => {
      for (const ref of names) {
        const steps = new StepsDisplay(out);
        try {
          const container = await berth.containers.get(ref);
          const info = await how.act(container, flags, steps);
          steps.close();
          results.push(info ?? { name: container.name, deleted: true });
          if (!flags.json) out.line(container.name);
        } catch (err) {
          steps.close();
          failed = true;
          printError(out, err);
        }
      }
    });
    if (flags.json) out.jsonDocument(results);
    if (failed) process.exitCode = EXIT.FAILED;
  });
}
