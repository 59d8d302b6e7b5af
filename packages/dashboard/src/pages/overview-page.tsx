import type { BerthClient } from "@berth/client";
import { useMemo, useState } from "preact/hooks";
import { actionsColumn } from "../actions/actions-column.tsx";
import { OVERVIEW_COLUMNS } from "../containers/columns.tsx";
import { ContainerFilters } from "../containers/container-filters.tsx";
import { ContainerTable } from "../containers/container-table.tsx";
import { applyQuery, DEFAULT_QUERY } from "../containers/row-query.ts";
import { useContainerStore } from "../containers/use-container-store.ts";
import { routeHref } from "../router/route.ts";
import { useNow } from "../use-now.ts";

interface Props {
  client: BerthClient;
  isAdmin: boolean;
}

/** `#/`: the caller's containers (the admin's: everyone's, with the owner), live. */
export function OverviewPage({ client, isAdmin }: Props) {
  const snapshot = useContainerStore(client, { history: true });
  const [query, setQuery] = useState(DEFAULT_QUERY);
  const now = useNow();
  const columns = useMemo(
    () => [...OVERVIEW_COLUMNS.filter((c) => isAdmin || !c.adminOnly), actionsColumn(client)],
    [isAdmin, client],
  );
  const rows = applyQuery(snapshot.rows, query, columns, now);
  const onSort = (key: string) =>
    setQuery({ ...query, sortKey: key, descending: query.sortKey === key ? !query.descending : false });

  return (
    <>
      <div class="page-head">
        <h1>Containers</h1>
        <a class="button-link" href={routeHref({ page: "new" })}>
          New container
        </a>
      </div>
      <ContainerFilters query={query} onChange={setQuery} />
      <p class="status" role="status">
        {snapshot.status === "loading" && "Loading containers…"}
        {snapshot.status === "reconnecting" &&
          "Connection lost: reconnecting. The table catches up once it is back."}
        {snapshot.status === "failed" && `The containers could not be read: ${snapshot.error}`}
        {snapshot.status === "ready" && snapshot.rows.length === 0 && "No containers yet."}
      </p>
      {snapshot.rows.length > 0 && (
        <ContainerTable rows={rows} columns={columns} query={query} onSort={onSort} now={now} />
      )}
    </>
  );
}
