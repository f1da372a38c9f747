import { describe, expect, it } from "vitest";
import { topics } from "../src/realtime/bus.js";
import { OUTBOX, START, startGateway } from "./support/gateway.js";

const waitFor = async (check: () => Promise<boolean>, ms = 10_000) => {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe("OUTBOX_RUNNER", () => {
  it("thread: a worker thread delivers into the dev outbox, and subscribers' events come back to the request thread", async () => {
    const gw = await startGateway({ env: { OUTBOX_RUNNER: "thread" } });
    try {
      const heard: string[] = [];
      gw.app.bus.listen(topics.service(gw.defaultServiceSid), (event) => heard.push(event.type));
      const started = await gw.gql(START, { input: { serviceSid: gw.defaultServiceSid, to: "+14155550101", channel: "SMS" } });
      expect(started.errors).toBeUndefined();
      const sid = started.data?.startVerification.verification.sid as string;
      await waitFor(async () => ((await gw.gql(OUTBOX, { to: "+14155550101" })).data?.devOutbox.length ?? 0) > 0);
      await waitFor(async () => {
        const v = await gw.gql(`query($sid: ID!) { verification(sid: $sid) { sendCodeAttempts { status } } }`, { sid });
        return v.data?.verification?.sendCodeAttempts?.[0]?.status === "SENT";
      });
      // The delivery's event, committed by the thread, reaches this thread's subscribers.
      await waitFor(async () => heard.length >= 2);
    } finally {
      await gw.close();
    }
  });

  it("thread: a service changed on the request thread is worded with its new name by the thread's next delivery", async () => {
    const gw = await startGateway({ env: { OUTBOX_RUNNER: "thread" } });
    try {
      const body = async (to: string) => {
        await waitFor(async () => ((await gw.gql(OUTBOX, { to })).data?.devOutbox.length ?? 0) > 0);
        return (await gw.gql(`query($to: String) { devOutbox(to: $to) { body } }`, { to })).data?.devOutbox[0].body as string;
      };
      await gw.gql(START, { input: { serviceSid: gw.defaultServiceSid, to: "+14155550103", channel: "SMS" } });
      expect(await body("+14155550103")).toContain("Default");
      const renamed = await gw.gql(`mutation($s: ID!) { updateService(input: { sid: $s, friendlyName: "Renamed Shop" }) { sid } }`, { s: gw.defaultServiceSid });
      expect(renamed.errors).toBeUndefined();
      await gw.gql(START, { input: { serviceSid: gw.defaultServiceSid, to: "+14155550104", channel: "SMS" } });
      expect(await body("+14155550104")).toContain("Renamed Shop");
    } finally {
      await gw.close();
    }
  });

  it("off: this instance queues the message and leaves its delivery to another", async () => {
    const gw = await startGateway({ env: { OUTBOX_RUNNER: "off" } });
    try {
      const started = await gw.gql(START, { input: { serviceSid: gw.defaultServiceSid, to: "+14155550102", channel: "SMS" } });
      expect(started.errors).toBeUndefined();
      await new Promise((r) => setTimeout(r, 300));
      expect((await gw.gql(OUTBOX, { to: "+14155550102" })).data?.devOutbox).toEqual([]);
      expect(await gw.app.store.pendingJobCount()).toBe(1);
    } finally {
      await gw.close();
    }
  });
});
