import type { ClientEvent, ServerToClientEvents } from "#protocol";

/**
 * One line on what each event of the contract does, written once beside the
 * contract for the API document (asyncapi.ts); the README's API tables say
 * the same at more length. Typed over the contract, so an event added there
 * does not compile until it is described here.
 */
export const CLIENT_EVENT_DESCRIPTIONS = {
  "container:create":
    "Create a container from a spec (and its code), start it and wait until the workload is ready unless `start: false` or `waitReady: false`; answers the container and how long each step took. `runtime` (`node`, the default, or `python`) picks the server's image for it and the entry file the code must hold (`index.js`, `main.py`); `image` names an allowed custom image instead (with `runtime` too, the image must be that runtime's).",
  "container:start": "Start a container; answers once the workload is ready (unless `waitReady: false`).",
  "container:stop": "Stop a container: SIGTERM, then SIGKILL after `timeoutSec`.",
  "container:restart": "Restart a container; answers once the workload is ready (unless `waitReady: false`).",
  "container:delete":
    "Delete a container and its code; idempotent (`deleted: false` when there was nothing to delete).",
  "container:status":
    "A container as berth sees it; with `spec: true`, also its spec (secret values never; bounded to 64 KiB, each value to 1 KiB), a large read under the connection's cap on those.",
  "container:list":
    "One page of the caller's containers, oldest first, filtered by state, health, name prefix or label; `nextCursor` asks for the next.",
  "container:send": "Send JSON data to the workload; answers once it is written to the workload's socket.",
  "container:request": "Send JSON data to the workload and answer with the workload's answer.",
  "container:subscribe": "Receive `container:message` for each message the workload sends.",
  "container:unsubscribe": "Stop receiving `container:message` from this container.",
  "container:update":
    "Replace the container's code with a new release behind a health-gated restart; a release that does not come up is rolled back (`UPDATE_ROLLED_BACK`).",
  "container:rollback": "Put a previous release back (default: the one before the active one).",
  "container:releases": "The container's code releases, newest first.",
  "container:stats": "One resource-usage sample of the container.",
  "container:watch_stats":
    "Receive `container:resource_usage` every `intervalMs` until unwatched or disconnected.",
  "container:unwatch_stats": "Stop receiving `container:resource_usage` for this container.",
  "containers:watch_stats":
    "Receive `containers:resource_usage`, the samples of every running container the connection may see, every `intervalMs`.",
  "containers:unwatch_stats": "Stop the overview of `containers:watch_stats`.",
  "container:stats_history":
    "The container's resource samples of the last 10 minutes, oldest first, one per `intervalMs`, for a chart that opens with a past.",
  "containers:stats_history":
    "The resource-sample histories of every running container the caller may see, for sparklines (at most 100 containers).",
  "container:logs": "The last lines of the container's output (at most 4 MiB of them).",
  "container:follow_logs": "Receive `container:log` for each new line of the container's output.",
  "container:unfollow_logs": "Stop receiving `container:log` for this container.",
  "activity:history":
    "The activity feed after `afterId`, oldest first: what a client missed while it was away.",
  "server:info":
    "berth's version, the limits a client must keep to, the allowed images, the runtimes (each one's image, entry file, default command and whether the engine has the image), and the caller's own quotas.",
  "image:check":
    "The admin's only (FORBIDDEN for owners): whether berth can run workloads in an image — allowed or not — by running a throwaway container from it with berth's hardening and a probe (or the code given) that must connect and answer one request; answers each check as passed, failed or skipped, with what to do.",
} as const satisfies Record<ClientEvent, string>;

export const SERVER_EVENT_DESCRIPTIONS = {
  "container:resource_usage":
    "A resource-usage sample of a container the connection watches (`container:watch_stats`).",
  "containers:resource_usage": "One tick of the overview asked for with `containers:watch_stats`.",
  "container:log": "A new line of output of a container the connection follows (`container:follow_logs`).",
  "container:message": "A message from a workload the connection subscribes to (`container:subscribe`).",
  "container:dropped":
    "How many events of one stream the connection missed because it did not read fast enough; sent once it has caught up.",
  "container:health_changed": "The health of one of the owner's containers changed.",
  "container:status_changed": "The state of one of the owner's containers changed.",
  "container:progress":
    "One step of a long operation the caller asked to follow with `progress: { opId }`; to the calling connection only.",
  activity_log: "A new entry of the owner's activity feed.",
  "session:revoked":
    "The connection's token was removed or replaced; berth closes the connection next, and its session cannot be recovered.",
} as const satisfies Record<keyof ServerToClientEvents, string>;
