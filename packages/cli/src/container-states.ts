import type { ContainerState } from "@berth/client";

// Written out so that `--state` can offer them as choices; the `satisfies`
// makes the compiler fail here when the contract gains or loses a state.
const STATES = {
  created: true,
  starting: true,
  running: true,
  stopping: true,
  stopped: true,
  exited: true,
  restarting: true,
  updating: true,
  paused: true,
  removing: true,
  missing: true,
  failed: true,
} as const satisfies Record<ContainerState, true>;

/** Every state a container can be in, as `berth ls --state` accepts them. */
export const CONTAINER_STATE_NAMES = Object.keys(STATES) as ContainerState[];
