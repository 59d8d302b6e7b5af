import type { TestProject } from "vitest/node";
import { type PostgresServerInfo, startPostgresServer } from "./postgres-server.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** The throwaway PostgreSQL server of a `BERTH_TEST_STORE=postgres` run; undefined otherwise. */
    berthPostgres: PostgresServerInfo | undefined;
  }
}

/**
 * With BERTH_TEST_STORE=postgres, starts one throwaway PostgreSQL server for
 * the whole run and hands its socket and passwords to every test file
 * (`inject("berthPostgres")`); each berth a test starts then gets a database
 * of its own on it (test/helpers/test-store.ts). Stopped and removed when
 * the run ends. Without the variable it does nothing: berth uses SQLite.
 */
export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  if (process.env.BERTH_TEST_STORE !== "postgres") {
    project.provide("berthPostgres", undefined);
    return undefined;
  }
  const server = await startPostgresServer();
  project.provide("berthPostgres", server.info);
  return () => server.stop();
}
