import type { ObjectRef } from "@pothos/core";
import { invalidParameter } from "../domain/errors.js";
import type { Page } from "../domain/types.js";
import { builder, type GatewayTypes } from "./builder.js";

export const PageInfo = builder.objectRef<{ hasNextPage: boolean; endCursor: string | null }>("PageInfo").implement({
  fields: (t) => ({
    hasNextPage: t.exposeBoolean("hasNextPage"),
    endCursor: t.exposeString("endCursor", { nullable: true }),
  }),
});

/** A Relay connection (`edges { cursor node }`, `nodes`, `pageInfo`) over a store page. */
export function connection<T>(name: string, node: ObjectRef<GatewayTypes, T>) {
  const edge = builder.objectRef<{ cursor: string; node: T }>(`${name}Edge`).implement({
    fields: (t) => ({
      cursor: t.exposeString("cursor"),
      // Pothos cannot narrow a generic T to its resolver result type; the ref guarantees the shape.
      node: t.field({ type: node, resolve: (e) => e.node as never }),
    }),
  });
  return builder.objectRef<Page<T>>(`${name}Connection`).implement({
    fields: (t) => ({
      edges: t.field({ type: [edge], resolve: (p) => p.edges }),
      nodes: t.field({ type: [node], resolve: (p) => p.edges.map((e) => e.node) }),
      pageInfo: t.field({ type: PageInfo, resolve: (p) => p }),
    }),
  });
}

export const emptyPage = <T>(): Page<T> => ({ edges: [], hasNextPage: false, endCursor: null });

/** `first` is 1–100 (default 20), as API.md fixes. */
export function pageSize(first: number | null | undefined, fallback = 20): number {
  const size = first ?? fallback;
  if (!Number.isInteger(size) || size < 1 || size > 100) throw invalidParameter("first", "Invalid parameter `first`: must be between 1 and 100.");
  return size;
}
