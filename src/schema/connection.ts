import type { ObjectRef } from "@pothos/core";
import { invalidParameter } from "../domain/errors.js";
import type { Page } from "../domain/types.js";
import { decodeCursor, encodeCursor } from "../store/cursor.js";
import { builder, type GatewayTypes } from "./builder.js";

export const PageInfo = builder.objectRef<{ hasNextPage: boolean; endCursor: string | null }>("PageInfo").implement({
  description: "Where a page of a connection ends, and whether another follows",
  fields: (t) => ({
    hasNextPage: t.exposeBoolean("hasNextPage", { description: "True when more items follow: ask again with `after: endCursor`" }),
    endCursor: t.exposeString("endCursor", { nullable: true, description: "The last item's cursor, to pass as `after`; null on an empty page" }),
  }),
});

/** A Relay connection (`edges { cursor node }`, `nodes`, `pageInfo`) over a store page. */
export function connection<T>(name: string, node: ObjectRef<GatewayTypes, T>) {
  const edge = builder.objectRef<{ cursor: string; node: T }>(`${name}Edge`).implement({
    description: `One ${name} of a page, with its cursor`,
    fields: (t) => ({
      cursor: t.exposeString("cursor", { description: "Opaque; pass it as `after` to read the items that follow this one" }),
      // Pothos cannot narrow a generic T to its resolver result type; the ref guarantees the shape.
      node: t.field({ type: node, description: `The ${name}`, resolve: (e) => e.node as never }),
    }),
  });
  return builder.objectRef<Page<T>>(`${name}Connection`).implement({
    description: `A page of ${name} items (a Relay connection): ask for \`first\` (1–100, default 20) \`after\` a cursor`,
    fields: (t) => ({
      edges: t.field({ type: [edge], description: "The page's items, each with its cursor", resolve: (p) => p.edges }),
      nodes: t.field({ type: [node], description: "The page's items, without cursors", resolve: (p) => p.edges.map((e) => e.node) }),
      pageInfo: t.field({ type: PageInfo, description: "Whether another page follows, and the cursor to ask for it", resolve: (p) => p }),
    }),
  });
}

/** Descriptions of the paging arguments every connection field takes. */
export const pagingArgs = {
  first: "Page size, 1–100 (default 20); anything else answers INVALID_PARAMETER (field `first`)",
  after: "A cursor this API returned (pageInfo.endCursor or an edge's cursor): the page starts after that item; any other string answers INVALID_PARAMETER (field `after`)",
} as const;

/** A page of a short list held whole in memory (at most a handful of items), with the store's cursors. */
export function pageOfList<T>(items: readonly T[], first: number, after: string | null): Page<T> {
  const from = decodeCursor(after);
  const edges = items.slice(from, from + first).map((node, i) => ({ cursor: encodeCursor(from + i + 1), node }));
  return { edges, hasNextPage: from + first < items.length, endCursor: edges.at(-1)?.cursor ?? null };
}

export const emptyPage = <T>(): Page<T> => ({ edges: [], hasNextPage: false, endCursor: null });

/** `first` is 1–100 (default 20), as API.md fixes. */
export function pageSize(first: number | null | undefined, fallback = 20): number {
  const size = first ?? fallback;
  if (!Number.isInteger(size) || size < 1 || size > 100) throw invalidParameter("first", "Invalid parameter `first`: must be between 1 and 100.");
  return size;
}
