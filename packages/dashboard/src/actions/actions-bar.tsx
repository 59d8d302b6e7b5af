import type { BerthClient, ContainerInfo } from "@berth/client";
import { routeHref } from "../router/route.ts";
import { LifecycleButtons } from "./lifecycle-buttons.tsx";
import { UpdateForm } from "./update-form.tsx";

interface Props {
  client: BerthClient;
  info: ContainerInfo;
}

/**
 * The container page's actions: start, stop, restart and delete (with the
 * restart's steps), and an update of its code. After a delete the page goes
 * back to the list, since the container it shows is gone.
 *
 * @example
 *   <ActionsBar client={client} info={row.info} />
 */
export function ActionsBar({ client, info }: Props) {
  return (
    <section class="actions-bar" aria-labelledby="actions-heading">
      <h2 id="actions-heading">Actions</h2>
      <LifecycleButtons
        client={client}
        info={info}
        showSteps
        onDeleted={() => {
          window.location.hash = routeHref({ page: "overview" });
        }}
      />
      <UpdateForm client={client} info={info} />
    </section>
  );
}
