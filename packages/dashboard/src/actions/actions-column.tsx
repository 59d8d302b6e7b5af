import type { BerthClient } from "@berth/client";
import type { Column } from "../containers/column.ts";
import { LifecycleButtons } from "./lifecycle-buttons.tsx";

/**
 * The overview's last column: each row's start, stop, restart and delete.
 * A function of the client, which the other columns do not need: the
 * overview adds it to OVERVIEW_COLUMNS.
 *
 * @example
 *   const columns = [...OVERVIEW_COLUMNS, actionsColumn(client)];
 */
export function actionsColumn(client: BerthClient): Column {
  return {
    key: "actions",
    label: "Actions",
    cell: (row) => <LifecycleButtons client={client} info={row.info} />,
  };
}
