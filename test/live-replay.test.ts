import { describe, expect, it } from "vitest";
import type { VerifyEvent } from "../src/domain/types.js";
import { EventBus, topics } from "../src/realtime/bus.js";
import { eventStream } from "../src/realtime/live.js";

// eventStream's replay over the real in-process bus: events published while the replay is being read
// (committed before the read, or after it) come out once each, after the replayed ones.
const event = (sid: string): VerifyEvent => ({ sid, type: "verification.started", serviceSid: "VA1", resourceSid: `VE${sid}`, occurredAt: "2026-11-29T00:00:00.000Z", data: {} }) as unknown as VerifyEvent;

async function take(stream: AsyncIterable<VerifyEvent>, count: number): Promise<string[]> {
  const got: string[] = [];
  for await (const e of stream) {
    got.push(e.sid);
    if (got.length === count) break;
  }
  return got;
}

describe("a live stream with replay", () => {
  it("sends an event both read and heard during the read once, in the replay", async () => {
    const bus = new EventBus();
    const stream = eventStream(bus, topics.service("VA1"), async () => {
      bus.publish([event("EV2")]); // committed before the read, published while it runs
      return [event("EV1"), event("EV2")];
    });
    const got = take(stream, 3);
    await new Promise((r) => setTimeout(r, 10));
    bus.publish([event("EV3")]);
    expect(await got).toEqual(["EV1", "EV2", "EV3"]);
    expect(bus.listeners).toBe(0);
  });

  it("sends an event heard during the read but not in it right after the replay", async () => {
    const bus = new EventBus();
    const stream = eventStream(bus, topics.service("VA1"), async () => {
      bus.publish([event("EV9")]); // committed after the read's snapshot
      return [event("EV7"), event("EV8")];
    });
    expect(await take(stream, 3)).toEqual(["EV7", "EV8", "EV9"]);
  });

  it("without replay, sends live events only", async () => {
    const bus = new EventBus();
    const got = take(eventStream(bus, topics.service("VA1")), 1);
    await new Promise((r) => setTimeout(r, 10));
    bus.publish([event("EV5")]);
    expect(await got).toEqual(["EV5"]);
  });
});
