import { Berth } from "./berth.ts";
import { ConfigError, loadConfig } from "./config/config.ts";
import { BerthError } from "./errors/berth-error.ts";

/**
 * The composition root: read the config, build berth, start it, and on
 * SIGTERM or SIGINT shut down in order. Containers keep running while berth
 * is down; the next start adopts them again.
 */
async function main(): Promise<void> {
  let berth: Berth;
  try {
    berth = new Berth(loadConfig(process.env), {
      onAdminTokenCreated: (token) => {
        // Printed once, straight to the terminal, never through the logger (which would redact it anyway).
        process.stderr.write(
          `\n  berth: generated an admin token (kept in the data directory):\n\n    ${token}\n\n  Connect with auth: { token }.\n\n`,
        );
      },
    });
  } catch (err) {
    if (err instanceof ConfigError || err instanceof BerthError) {
      process.stderr.write(`berth: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
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
    berth.log.fatal({ err }, "berth could not start");
    await berth.close().catch(() => {});
    process.exit(1);
  }
}

await main();
