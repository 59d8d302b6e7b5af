import type { BerthClient } from "@berth/client";
import { CreateForm } from "../actions/create-form.tsx";
import { routeHref } from "../router/route.ts";

/** `#/new`: the form that creates a container. */
export function NewContainerPage({ client }: { client: BerthClient }) {
  return (
    <>
      <h1>New container</h1>
      <p>
        <a href={routeHref({ page: "overview" })}>Back to the containers</a>
      </p>
      <CreateForm client={client} />
    </>
  );
}
