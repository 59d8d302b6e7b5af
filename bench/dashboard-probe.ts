/** What the probe in the page has measured, in the page's own clock (`performance.now()`, from navigation start). */
export interface ProbeReadings {
  /** Navigation start → the overview's table holding every row, painted; undefined until then. */
  firstRenderMs?: number;
  /** Per `container:status_changed` push: its arrival on the page's WebSocket → the row's new state painted. */
  pushes: {
    name: string;
    to: string;
    /** → the paint done (requestAnimationFrame, then a task). */
    ms: number;
    /** → the requestAnimationFrame of the frame that paints it (what the target counts). */
    frameMs: number;
    /** → the row's new state in the DOM. */
    domMs: number;
  }[];
}

/**
 * The script the benchmark puts in the page before any of the dashboard's
 * (Playwright's init script, through the DevTools protocol: berth's CSP, which
 * allows no inline script, does not apply to it, and the page is not loosened).
 *
 * - First render: a MutationObserver counts the overview's rows; once there
 *   are `rows`, the next frame's paint is the time (performance mark
 *   `berth:all-rows`).
 * - Push to paint: the page's WebSocket is wrapped so that each
 *   `container:status_changed` frame is timed as it arrives, before
 *   socket.io-client, the client SDK and the dashboard see it — on
 *   127.0.0.1 the moment berth sent it, within the loopback's microseconds.
 *   The MutationObserver then waits for that row's state badge to show the
 *   new state; two times are taken: in the next requestAnimationFrame
 *   callback (the frame that will paint it: the measure), and in a
 *   task after it (the paint falls between: the stricter one).
 */
export function probeScript(rows: number): string {
  return `(() => {
  const readings = (window.__berthBench = { pushes: [] });
  const pending = new Map();
  const afterPaint = (then) =>
    requestAnimationFrame(() => {
      const frame = performance.now();
      const channel = new MessageChannel();
      channel.port1.onmessage = () => then(performance.now(), frame);
      channel.port2.postMessage(0);
    });
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      // Added before socket.io-client's own onmessage: this listener runs first.
      this.addEventListener("message", (e) => {
        if (typeof e.data !== "string" || !e.data.includes('"container:status_changed"')) return;
        const arrived = performance.now();
        try {
          const [, push] = JSON.parse(e.data.slice(e.data.indexOf("[")));
          pending.set(push.name, { to: push.to, arrived });
        } catch {}
      });
    }
  };
  let counted = false;
  const check = () => {
    if (!counted) {
      const body = document.querySelector("table.containers tbody");
      if (body && body.rows.length >= ${rows}) {
        counted = true;
        afterPaint((t) => {
          performance.mark("berth:all-rows");
          readings.firstRenderMs = t;
        });
      }
    }
    for (const [name, push] of pending) {
      const badge = document.querySelector('tr[data-container="' + CSS.escape(name) + '"] td[data-column="state"] [data-state]');
      if (badge && badge.getAttribute("data-state") === push.to) {
        pending.delete(name);
        const dom = performance.now();
        afterPaint((t, frame) =>
          readings.pushes.push({ name, to: push.to, ms: t - push.arrived, frameMs: frame - push.arrived, domMs: dom - push.arrived }),
        );
      }
    }
  };
  new MutationObserver(check).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ["data-state"] });
})();`;
}
