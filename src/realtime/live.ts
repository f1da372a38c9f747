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

/**
 * Every event on a topic, for as long as the client listens. With `replay`, the events it reads (the
 * latest before now, oldest first) come first: listening starts before the read and live events wait
 * until the replay is out, each event once (by sid) however the read and the live stream overlap.
 */
export function eventStream(bus: EventBus, topic: string, replay?: () => Promise<VerifyEvent[]>): AsyncIterable<VerifyEvent> {
  return new Repeater<VerifyEvent>(async (push, stop) => {
    const seen = new Set<string>();
    let held: VerifyEvent[] | null = replay ? [] : null;
    const offer = (event: VerifyEvent) => {
      if (held) held.push(event);
      else if (!seen.has(event.sid)) void pushOrStop(push, stop, event);
    };
    const detach = bus.listen(topic, offer);
    try {
      if (replay) {
        const past = await replay();
        for (const event of past) {
          seen.add(event.sid);
          if (!pushOrStop(push, stop, event)) return;
        }
        const waiting = held ?? [];
        held = null;
        for (const event of waiting) offer(event);
      }
      await stop;
    } finally {
      detach();
    }
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

/** How the token that opened a stream can stop being valid: an event that revokes it, an expiry, both or neither. */
export interface TokenLife {
  /** The token (or what it stands for) whose streams are counted together. */
  holder: string;
  revokedBy: { topic: string; eventTypes: readonly string[] } | null;
  /** Epoch ms, or null for a token that does not expire. */
  expiresAt: number | null;
}

export type StreamEnd = "revoked" | "expired";

/** setTimeout's longest delay; a later expiry is reached by re-arming. */
const LONGEST_TIMER_MS = 2 ** 31 - 1;

/**
 * The source's items until it ends, or until the token that opened it is revoked (an event on the bus,
 * so a revocation on any instance reaches every instance's streams) or expires (a timer at its expiry):
 * then `farewell(reason)` is the last item and the stream completes. A token is resolved once, when the
 * stream opens; without this a stream outlived its token for as long as the client kept it open.
 */
export function untilTokenEnds<T>(
  source: AsyncIterable<T>,
  o: { bus: EventBus; life: TokenLife; now: () => number; farewell: (reason: StreamEnd) => T; onEnd: (reason: StreamEnd | null) => void },
): AsyncIterableIterator<T> {
  let started = false;
  let settled = false;
  const settle = (reason: StreamEnd | null) => {
    if (settled) return;
    settled = true;
    o.onEnd(reason);
  };
  const stream = new Repeater<T>(async (push, stop) => {
    started = true;
    const iterator = source[Symbol.asyncIterator]();
    let ended: StreamEnd | null = null;
    const end = (reason: StreamEnd) => {
      if (ended) return;
      ended = reason;
      pushOrStop(push, stop, o.farewell(reason));
      stop();
    };
    const { revokedBy, expiresAt } = o.life;
    const detach = revokedBy ? o.bus.listen(revokedBy.topic, (event) => revokedBy.eventTypes.includes(event.type) && end("revoked")) : () => {};
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      if (expiresAt === null) return;
      const left = expiresAt - o.now();
      if (left <= 0) end("expired");
      else timer = setTimeout(arm, Math.min(left, LONGEST_TIMER_MS));
    };
    arm();
    const pump = async () => {
      for (let next = await iterator.next(); !next.done && !ended; next = await iterator.next()) await push(next.value);
    };
    pump().then(
      () => stop(),
      (error: unknown) => stop(error instanceof Error ? error : new Error(String(error))),
    );
    try {
      await stop;
    } finally {
      clearTimeout(timer);
      detach();
      void iterator.return?.()?.catch(() => {});
      settle(ended);
    }
  });
  // A Repeater's body runs on its first next(). graphql-ws returns a stream that its client completed while
  // the stream was being opened without ever reading it: that stream must still close its source and give
  // back what it holds (its slot in the StreamLedger), or the slot leaks until restart.
  const closeUnread = () => {
    if (started) return;
    void source[Symbol.asyncIterator]()
      .return?.()
      ?.catch(() => {});
    settle(null);
  };
  return {
    next: () => stream.next(),
    return: (value?: unknown) => {
      closeUnread();
      return stream.return(value as T);
    },
    throw: (error?: unknown) => {
      closeUnread();
      return stream.throw(error);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/** Open streams per token holder, so one token cannot hold unbounded subscriptions. */
export class StreamLedger {
  private readonly open = new Map<string, number>();
  constructor(private readonly perHolder: number) {}

  /** Takes a slot for one more stream of this holder: its release function, or null at the cap. */
  take(holder: string): (() => void) | null {
    const count = this.open.get(holder) ?? 0;
    if (count >= this.perHolder) return null;
    this.open.set(holder, count + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.open.get(holder) ?? 1) - 1;
      if (left === 0) this.open.delete(holder);
      else this.open.set(holder, left);
    };
  }
}
