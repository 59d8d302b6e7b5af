import type { BerthClient } from "@berth/client";
import { ActionsBar } from "../actions/actions-bar.tsx";
import { MessageConsole } from "../console/message-console.tsx";
import { ContainerFacts } from "../container/container-facts.tsx";
import { ContainerSpec } from "../container/container-spec.tsx";
import { LiveOutput } from "../container/live-output.tsx";
import { StatusHistory } from "../container/status-history.tsx";
import { UsageCharts } from "../container/usage-charts.tsx";
import { useContainerHandle } from "../container/use-container-handle.ts";
import { useContainerStore } from "../containers/use-container-store.ts";
import { ReleaseHistory } from "../releases/release-history.tsx";
import { routeHref } from "../router/route.ts";
import { useNow } from "../use-now.ts";

interface Props {
  client: BerthClient;
  name: string;
}

/**
 * `#/containers/:name`: one container, live — its facts, usage charts,
 * output, status history, releases (with rollback), message console and
 * spec. The page finds the container among the
 * caller's own (the live store): a name the caller may not see shows "not
 * found" and nothing else, and no stream is opened for it.
 *
 * The page is a grid of sections (styles.css, `.container-page`): an
 * actions bar under the heading (`.actions-bar`), and "Releases"
 * (`.releases`) and "Console" (`.console`) sections between the status
 * history and the spec — each mounted with one line, given `client`,
 * `info` and, for streams, `container` (the handle).
 */
export function ContainerPage({ client, name }: Props) {
  const snapshot = useContainerStore(client);
  const now = useNow();
  // By id too: names are unique per owner only, so the admin, who sees every owner's, may need the id.
  const byId = snapshot.rows.find((r) => r.info.id === name);
  const named = snapshot.rows.filter((r) => r.info.name === name);
  const row = byId ?? (named.length === 1 ? named[0] : undefined);
  const container = useContainerHandle(client, row?.info.id);

  if (!row && named.length > 1) {
    return (
      <>
        <h1>{name}</h1>
        <p>Several owners have a container named “{name}”. Which one?</p>
        <ul>
          {named.map((r) => (
            <li key={r.info.id}>
              <a href={routeHref({ page: "container", name: r.info.id })}>
                {r.info.name} of {r.info.owner}
              </a>
            </li>
          ))}
        </ul>
      </>
    );
  }
  if (!row) {
    return (
      <>
        <h1>{name}</h1>
        <p role="status">
          {snapshot.status === "loading"
            ? "Loading…"
            : `There is no container named “${name}” that you may see.`}
        </p>
        <p>
          <a href="#/">Back to the containers</a>
        </p>
      </>
    );
  }
  const { info, usage } = row;
  return (
    <div class="container-page">
      <h1>{info.name}</h1>
      <ActionsBar client={client} info={info} />
      <ContainerFacts info={info} usage={usage} now={now} />
      <UsageCharts container={container} running={info.state === "running"} />
      <LiveOutput container={container} name={info.name} />
      <StatusHistory client={client} containerId={info.id} />
      <ReleaseHistory client={client} info={info} />
      <MessageConsole client={client} info={info} />
      <ContainerSpec info={info} container={container} />
    </div>
  );
}
