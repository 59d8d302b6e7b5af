import type { ContainerState, HealthState } from "@berth/client";

type Props = { kind: "state"; value: ContainerState } | { kind: "health"; value: HealthState };

const TONE: Record<string, "good" | "bad" | "busy" | "quiet"> = {
  running: "good",
  healthy: "good",
  starting: "busy",
  stopping: "busy",
  restarting: "busy",
  updating: "busy",
  removing: "busy",
  unhealthy: "bad",
  failed: "bad",
  missing: "bad",
  exited: "bad",
};

/** A state or health as a word with a tone: the word carries the meaning, the colour only repeats it. */
export function StateBadge(props: Props) {
  const tone = TONE[props.value] ?? "quiet";
  return (
    <span class={`badge badge-${tone}`} data-state={props.value}>
      {props.value}
    </span>
  );
}
