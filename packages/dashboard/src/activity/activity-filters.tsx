import type { ActivityLevel } from "@berth/client";
import { ACTIVITY_LEVELS, type ActivityQuery } from "./activity-query.ts";

interface Props {
  query: ActivityQuery;
  onChange: (query: ActivityQuery) => void;
  /** The choices, from the entries the page holds. */
  containers: string[];
  actions: string[];
  /** The admin's owner filter; absent for an owner. */
  owners?: string[];
}

/** The activity page's filters: labelled controls in a search landmark. */
export function ActivityFilters({ query, onChange, containers, actions, owners }: Props) {
  const set = (change: Partial<ActivityQuery>) => onChange({ ...query, ...change });
  return (
    <search class="filters" aria-label="Filter the activity">
      <label>
        Search
        <input
          type="search"
          value={query.text}
          autocomplete="off"
          spellcheck={false}
          onInput={(e) => set({ text: e.currentTarget.value })}
        />
      </label>
      <Choice
        label="Container"
        value={query.container}
        values={containers}
        onPick={(container) => set({ container })}
      />
      <label>
        Level
        <select
          value={query.level}
          onChange={(e) => set({ level: e.currentTarget.value as ActivityLevel | "" })}
        >
          <option value="">any</option>
          {ACTIVITY_LEVELS.map((level) => (
            <option key={level} value={level}>
              {level}
            </option>
          ))}
        </select>
      </label>
      <Choice label="Kind" value={query.action} values={actions} onPick={(action) => set({ action })} />
      {owners && (
        <Choice label="Owner" value={query.owner} values={owners} onPick={(owner) => set({ owner })} />
      )}
    </search>
  );
}

/** A select of `values` with "any" first; the chosen value stays listed even when no entry held has it now. */
function Choice(props: { label: string; value: string; values: string[]; onPick: (value: string) => void }) {
  const values =
    props.value === "" || props.values.includes(props.value) ? props.values : [props.value, ...props.values];
  return (
    <label>
      {props.label}
      <select value={props.value} onChange={(e) => props.onPick(e.currentTarget.value)}>
        <option value="">any</option>
        {values.map((value) => (
          <option key={value} value={value}>
            {value}
          </option>
        ))}
      </select>
    </label>
  );
}
