import type { VerifyEvent } from "./types.js";

/** Where committed events go: live subscribers, metrics, the dispatcher's wake-up. */
export interface EventSink {
  publish(events: readonly VerifyEvent[]): void;
}
