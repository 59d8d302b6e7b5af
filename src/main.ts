import { Berth } from "./berth.ts";
import { ConfigError, loadConfig } from "./config/config.ts";
import { BerthError } from "./errors/berth-error.ts";
import { fatalReport } from "./logging/fatal-report.ts";
import { SecretRegistry } from "./logging/secret-registry.ts";

const secrets = new SecretRegistry();

/** Anything nobody caught ends berth, with one redacted line and nothing else (see fatalReport). */
function die(msg: string): (err: unknown) => void {
  return (err) => {
    try {
      process.stderr.write(fatalReport(err, msg, secrets.system));
    } finally {
      process.exit(1);
    }
  };
}
process.on("uncaughtException", die("berth crashed: uncaught exception"));
process.on("unhandledRejection", die("berth crashed: unhandled rejection"));

/**
 * The composition root: read the config, build berth, start it, and on
 * SIGTERM or SIGINT shut down in order. Containers keep running while berth
 * is down; the next start adopts them again.
 */
async function main(): Promise<void> {
  let berth: Berth;
  try {
    berth = await Berth.open(loadConfig(process.env), {
      secrets,
      onAdminTokenCreated: (token, file) => {
        // Printed once, straight to the terminal, never through the logger (which would redact it anyway).
        process.stderr.write(
          `\n  berth: generated an admin token (kept in ${file}):\n\n    ${token}\n\n  Connect with auth: { token }.\n\n`,
        );
      },
    });
  } catch (err) {
    if (err instanceof ConfigError || err instanceof BerthError) {
      process.stderr.write(`berth: ${secrets.system.redactString(err.message)}\n`);
      process.exit(2);
    }
    die("berth could not be built")(err);
    return;
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    berth.log.info({ signal }, "received signal");
    const force = setTimeout(() => process.exit(1), 30_000);
    force.unref();
    berth.close().then(
      () => process.exit(0),
      (err) => {
        berth.log.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGHUP", () => {
    berth.log.info({ signal: "SIGHUP" }, "received signal; reloading the tokens file");
    berth.reloadTokens();
  });
  try {
    await berth.start();
  } catch (err) {
    // A signal during the start: the start gave up (SHUTTING_DOWN), and stop() exits once berth is closed.
    if (stopping) return;
    berth.log.fatal({ err }, "berth could not start");
    await berth.close().catch(() => {});
    process.exit(1);
  }
}

await main().catch(die("berth crashed"));
