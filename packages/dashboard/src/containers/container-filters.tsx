import { CONTAINER_STATES, type ContainerState, HEALTH_STATES, type HealthState } from "@berth/client";
import type { RowQuery } from "./row-query.ts";

interface Props {
  query: RowQuery;
  onChange: (query: RowQuery) => void;
}

/** The overview's filters: part of a name, a state, a health, a label. Labelled controls in a search landmark. */
export function ContainerFilters({ query, onChange }: Props) {
  return (
    <search class="filters" aria-label="Filter containers">
      <label>
        Name
        <input
          type="search"
          value={query.name}
          autocomplete="off"
          spellcheck={false}
          onInput={(e) => onChange({ ...query, name: e.currentTarget.value })}
        />
      </label>
      <label>
        State
        <select
          value={query.state}
          onChange={(e) => onChange({ ...query, state: e.currentTarget.value as ContainerState | "" })}
        >
          <option value="">any</option>
          {CONTAINER_STATES.map((state) => (
            <option key={state} value={state}>
              {state}
            </option>
          ))}
        </select>
      </label>
      <label>
        Health
        <select
          value={query.health}
          onChange={(e) => onChange({ ...query, health: e.currentTarget.value as HealthState | "" })}
        >
          <option value="">any</option>
          {HEALTH_STATES.map((health) => (
            <option key={health} value={health}>
              {health}
            </option>
          ))}
        </select>
      </label>
      <label>
        Label
        <input
          type="search"
          value={query.label}
          placeholder="key or key=value"
          autocomplete="off"
          spellcheck={false}
          onInput={(e) => onChange({ ...query, label: e.currentTarget.value })}
        />
      </label>
    </search>
  );
}
