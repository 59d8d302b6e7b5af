/**
 * Where the dashboard keeps the signed-in token: this tab's `sessionStorage`,
 * so that it goes with the tab, is never written into a URL, a cookie or a
 * log, and a reload of the page does not ask for it again.
 */
const KEY = "berth.token";

export const tokenStore = {
  read(): string | undefined {
    try {
      return sessionStorage.getItem(KEY) ?? undefined;
    } catch {
      return undefined; // storage disabled: the user signs in on every load
    }
  },
  write(token: string): void {
    try {
      sessionStorage.setItem(KEY, token);
    } catch {
      // Storage disabled or full: the session still works until the tab reloads.
    }
  },
  clear(): void {
    try {
      sessionStorage.removeItem(KEY);
    } catch {
      // nothing kept
    }
  },
};
