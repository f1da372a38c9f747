import { useEffect, useState } from "preact/hooks";

/**
 * Hash routes (#/live, #/verifications/VE…, #/insights, #/search, #/settings): the gateway serves one
 * page, and a reload or a shared link opens the same screen.
 */
export type Route = { screen: "live" } | { screen: "verification"; sid: string } | { screen: "insights" } | { screen: "search" } | { screen: "settings"; tab: string | null };

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  switch (parts[0]) {
    case "verifications":
      return parts[1] ? { screen: "verification", sid: parts[1] } : { screen: "search" };
    case "insights":
      return { screen: "insights" };
    case "search":
      return { screen: "search" };
    case "settings":
      return { screen: "settings", tab: parts[1] ?? null };
    default:
      return { screen: "live" };
  }
}

export const href = (...parts: string[]) => `#/${parts.map(encodeURIComponent).join("/")}`;

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(location.hash));
    addEventListener("hashchange", onChange);
    return () => removeEventListener("hashchange", onChange);
  }, []);
  return route;
}
