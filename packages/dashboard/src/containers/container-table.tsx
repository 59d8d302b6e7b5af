import type { Column } from "./column.ts";
import type { ContainerRow } from "./container-store.ts";
import type { RowQuery } from "./row-query.ts";

interface Props {
  rows: ContainerRow[];
  columns: Column[];
  query: RowQuery;
  onSort: (key: string) => void;
  now: number;
}

/**
 * The overview's table. Sorting is a button in each sortable header (so it
 * takes the keyboard), with `aria-sort` on the sorted one. On a narrow
 * screen the wrapper scrolls sideways, and the caption stays readable.
 */
export function ContainerTable({ rows, columns, query, onSort, now }: Props) {
  return (
    // A region that scrolls must take the keyboard's focus, or a keyboard cannot scroll it (axe: scrollable-region-focusable).
    // biome-ignore lint/a11y/noNoninteractiveTabindex: see above
    <section class="table-scroll" aria-labelledby="containers-caption" tabIndex={0}>
      <table class="containers">
        <caption id="containers-caption">Containers ({rows.length} shown)</caption>
        <thead>
          <tr>
            {columns.map((column) => {
              const sorted = query.sortKey === column.key;
              return (
                <th
                  key={column.key}
                  scope="col"
                  class={column.numeric ? "numeric" : undefined}
                  aria-sort={sorted ? (query.descending ? "descending" : "ascending") : undefined}
                >
                  {column.sortValue ? (
                    <button type="button" class="sort" onClick={() => onSort(column.key)}>
                      {column.label}
                      <span aria-hidden="true">{sorted ? (query.descending ? " ▼" : " ▲") : ""}</span>
                    </button>
                  ) : (
                    column.label
                  )}
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.info.id} data-container={row.info.name}>
              {columns.map((column) => (
                <td key={column.key} data-column={column.key} class={column.numeric ? "numeric" : undefined}>
                  {column.cell(row, now)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
