import type { Container } from "@berth/client";
import { useEffect, useState } from "preact/hooks";

/** The spec as the page has it: still on its way, what berth sent (unchecked: see specView), or not to be had. */
export type SpecState = { status: "loading" } | { status: "ready"; sent: unknown } | { status: "failed" };

/**
 * The container's spec for the page's Spec section: asked for once when the
 * section opens (`status({ spec: true })`, the one answer that carries it)
 * and again when the container's release changes, never on a status push —
 * a spec may be up to 64 KiB and does not change after the create, so a
 * crash-looping container must not make every page fetch it again. Nothing
 * else on the page, and nothing in the overview's store, asks for it.
 *
 * @example
 *   const spec = useContainerSpec(container, info.release);
 *   if (spec.status === "ready") specView(info, spec.sent);
 */
export function useContainerSpec(container: Container | undefined, release: number | undefined): SpecState {
  const [state, setState] = useState<SpecState>({ status: "loading" });
  useEffect(() => {
    setState({ status: "loading" });
    if (!container) return;
    let gone = false;
    container.status({ spec: true }).then(
      (detail) => !gone && setState({ status: "ready", sent: detail.spec }),
      () => !gone && setState({ status: "failed" }),
    );
    return () => {
      gone = true;
    };
  }, [container, release]);
  return state;
}
