import { useEffect, useState } from "preact/hooks";

/**
 * Hash routes (#/live, #/verifications/VE…, #/insights, #/search?to=…&channel=SMS, #/settings): the gateway
 * serves one page, and a reload or a shared link opens the same screen (the search with its filters and page).
 */
export type Route = { screen: "live" } | { screen: "verification"; sid: string } | { screen: "insights" } | { screen: "search"; query: URLSearchParams } | { screen: "settings"; tab: string | null };

export function parseRoute(hash: string): Route {
  const raw = hash.replace(/^#\/?/, "");
  const q = raw.indexOf("?");
  const path = q < 0 ? raw : raw.slice(0, q);
  const query = new URLSearchParams(q < 0 ? "" : raw.slice(q + 1));
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  switch (parts[0]) {
    case "verifications":
      return parts[1] ? { screen: "verification", sid: parts[1] } : { screen: "search", query };
    case "insights":
      return { screen: "insights" };
    case "search":
      return { screen: "search", query };
    case "settings":
      return { screen: "settings", tab: parts[1] ?? null };
    default:
      return { screen: "live" };
  }
}

export const href = (...parts: string[]) => `#/${parts.map(encodeURIComponent).join("/")}`;

/** A route with a query (#/search?to=%2B1415…&channel=SMS); no "?" when there is none. */
export const hrefWithQuery = (query: URLSearchParams, ...parts: string[]) => {
  const q = query.toString();
  return q ? `${href(...parts)}?${q}` : href(...parts);
};

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(location.hash));
    addEventListener("hashchange", onChange);
    return () => removeEventListener("hashchange", onChange);
  }, []);
  return route;
}
