// The one place the CLI reaches @berth/client from, so that how it is
// resolved (the workspace package, the compiled one) is decided here only.

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
} from "@berth/client";
export {
  type BerthClient,
  BerthError,
  type Container,
  connect,
  isBerthError,
} from "@berth/client";
export { codeFromDirectory } from "@berth/client/code";
