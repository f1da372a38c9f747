import { setMaxListeners } from "node:events";
import type { EventSink } from "../domain/events.js";
import type { VerifyEvent } from "../domain/types.js";

/** Typed topics over an in-memory EventTarget, on which this instance's subscribers listen. */
export const topics = {
  resource: (sid: string) => `resource:${sid}`,
  service: (sid: string) => `service:${sid}`,
};

/**
 * Carries committed events to the other instances (Redis) and hands theirs to this one. It never hands
 * back this instance's own events, and a publish it cannot make is its own concern: never the caller's.
 */
export interface EventRelay {
  publish(events: readonly VerifyEvent[]): void;
  onRemoteEvents(deliver: (events: readonly VerifyEvent[]) => void): void;
}

/**
 * Every event reaches this instance's subscribers directly, whether or not a relay works; the relay adds
 * the other instances' events. So a Redis outage cuts instances off from each other, never from their own
 * subscribers, and nothing is delivered twice.
 */
export class EventBus implements EventSink {
  private active = 0;
  private readonly target = unboundedEventTarget();

  constructor(private readonly relay?: EventRelay) {
    relay?.onRemoteEvents((events) => this.deliver(events));
  }

  publish(events: readonly VerifyEvent[]): void {
    this.deliver(events);
    this.relay?.publish(events);
  }

  private deliver(events: readonly VerifyEvent[]): void {
    for (const event of events) {
      this.target.dispatchEvent(new CustomEvent(topics.resource(event.resourceSid), { detail: event }));
      this.target.dispatchEvent(new CustomEvent(topics.service(event.serviceSid), { detail: event }));
    }
  }

  /** Returns the unsubscribe function; `listeners` counts what is still attached. */
  listen(topic: string, handler: (event: VerifyEvent) => void): () => void {
    const listener = (e: Event) => handler((e as CustomEvent<VerifyEvent>).detail);
    this.target.addEventListener(topic, listener);
    this.active++;
    let attached = true;
    return () => {
      if (!attached) return;
      attached = false;
      this.active--;
      this.target.removeEventListener(topic, listener);
    };
  }

  get listeners(): number {
    return this.active;
  }
}

/** Node warns past 10 listeners per event type; thousands of subscribers are expected here. */
function unboundedEventTarget(): EventTarget {
  const target = new EventTarget();
  setMaxListeners(0, target);
  return target;
}

/** Fans committed events out to several sinks (bus, metrics, dispatcher wake-up). */
export const fanOut = (...sinks: EventSink[]): EventSink => ({
  publish(events) {
    if (events.length === 0) return;
    for (const sink of sinks) sink.publish(events);
  },
});
