import { CONTAINER_STATES, type ContainerState } from "@berth/client";
import type { RowQuery } from "./row-query.ts";

interface Props {
  query: RowQuery;
  onChange: (query: RowQuery) => void;
}

/** The overview's filters: a state and part of a name. Labelled controls in a search landmark. */
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
    </search>
  );
}
