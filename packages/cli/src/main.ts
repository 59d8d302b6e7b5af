#!/usr/bin/env node
// The `berth` executable: everything else is in run-cli.ts, so tests can run a command line in-process.
import { runCli } from "./run-cli.ts";

// `berth logs -f | head -1`: the reader is gone, and there is nobody left to tell; end quietly, as docker does.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") process.exit(0);
  throw err;
});

process.exitCode = await runCli(process.argv);
