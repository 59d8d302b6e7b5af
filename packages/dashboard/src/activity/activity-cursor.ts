/**
 * The id of the newest activity entry this tab has shown, kept in
 * `sessionStorage` so that the page, once reloaded, reads what was written
 * meanwhile from there (`activity.history { afterId }`) rather than only the
 * newest few, which would leave a gap after a busy minute. Only an id: no
 * entry's text is stored. It goes with the tab, like the token.
 */
export interface ActivityCursor {
  read(): number | undefined;
  write(id: number): void;
  clear(): void;
}

const KEY = "berth.activity.newest";

export const activityCursor: ActivityCursor = {
  read() {
    try {
      const value = Number(sessionStorage.getItem(KEY) ?? Number.NaN);
      return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
    } catch {
      return undefined; // storage disabled: the page reads the newest entries only
    }
  },
  write(id) {
    try {
      sessionStorage.setItem(KEY, String(id));
    } catch {
      // Storage disabled or full: a reload reads the newest entries only.
    }
  },
  clear() {
    try {
      sessionStorage.removeItem(KEY);
    } catch {
      // nothing kept
    }
  },
};
