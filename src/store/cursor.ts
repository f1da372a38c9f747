import { invalidParameter } from "../domain/errors.js";

/** Opaque Relay cursors over an adapter's monotonic sequence column. */
export const encodeCursor = (seq: number): string => Buffer.from(`seq:${seq}`).toString("base64url");

export function decodeCursor(cursor: string | null): number {
  if (!cursor) return 0;
  const match = /^seq:(\d{1,15})$/.exec(Buffer.from(cursor, "base64url").toString());
  if (!match) throw invalidParameter("after", "Invalid parameter `after`: not a cursor this API returned.");
  return Number(match[1]);
}
