// The one place the CLI reaches @berth/client from, so that how it is
// resolved (the workspace package, the compiled one) is decided here only.
// TEMPORARY: packages/client/package.json has no `exports` yet (branch `build`
// adds them), so `@berth/client` does not resolve; until then the client's
// sources are imported by path. Once it has them: `from "@berth/client"` and
// `from "@berth/client/code"` below, and nothing else changes.

export { codeFromDirectory } from "../../client/src/code/index.ts";
export type {
  ActivityEntry,
  CodeUpload,
  ContainerInfo,
  ContainerProgressEvent,
  ContainerSpec,
  ContainerState,
  LogLine,
  ReleaseInfo,
  ResourceUsage,
  StatsOverviewEvent,
  UpdateResult,
} from "../../client/src/index.ts";
export {
  type BerthClient,
  BerthError,
  type Container,
  connect,
  isBerthError,
} from "../../client/src/index.ts";
