#!/usr/bin/env node
// The `berth` executable: everything else is in run-cli.ts, so tests can run a command line in-process.
import { runCli } from "./run-cli.ts";

process.exitCode = await runCli(process.argv);
