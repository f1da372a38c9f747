/**
 * The operator's key lives in sessionStorage only (never a cookie, never a URL): it is gone when the tab
 * closes, and another site cannot send it along with a request.
 */
const KEY = "verigate.console.key";

export const session = {
  get: (): string | null => sessionStorage.getItem(KEY),
  set: (key: string) => sessionStorage.setItem(KEY, key),
  clear: () => sessionStorage.removeItem(KEY),
};
