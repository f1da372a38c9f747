import { Repeater } from "graphql-yoga";
import type { VerifyEvent } from "../domain/types.js";
import type { EventBus } from "./bus.js";

export interface Versioned {
  version: number;
}

/**
 * Current state first, then every newer state, ending after a final one. Listening starts before the
 * read, so nothing published in between is lost; stale states are dropped by version. Repeater buffers
 * what arrives while the client is busy, and its stop() detaches the listener however the stream ends.
 */
export function liveState<T extends Versioned>(opts: {
  bus: EventBus;
  topic: string;
  current: () => Promise<T | null>;
  fromEvent: (event: VerifyEvent) => T | null;
  isFinal: (state: T) => boolean;
}): AsyncIterable<T> {
  return new Repeater<T>(async (push, stop) => {
    let seen = -1;
    const offer = (state: T | null) => {
      if (!state || state.version <= seen) return;
      seen = state.version;
      if (!pushOrStop(push, stop, state)) return;
      if (opts.isFinal(state)) stop();
    };
    const detach = opts.bus.listen(opts.topic, (event) => offer(opts.fromEvent(event)));
    try {
      const current = await opts.current();
      if (!current) stop(new Error("not found"));
      else offer(current);
      await stop;
    } finally {
      detach();
    }
  });
}

/** Every event on a topic, for as long as the client listens. */
export function eventStream(bus: EventBus, topic: string): AsyncIterable<VerifyEvent> {
  return new Repeater<VerifyEvent>(async (push, stop) => {
    const detach = bus.listen(topic, (event) => void pushOrStop(push, stop, event));
    await stop;
    detach();
  });
}

/**
 * A subscriber that stops reading lets pushes pile up; past the Repeater's limit push throws, and a
 * throw inside an event listener would take the process down. That subscriber's stream ends instead.
 */
function pushOrStop<T>(push: (value: T) => Promise<unknown>, stop: (error?: Error) => void, value: T): boolean {
  try {
    void push(value).catch(() => {});
    return true;
  } catch {
    stop(new Error("subscriber too slow: the stream was closed"));
    return false;
  }
}
