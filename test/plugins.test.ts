import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import type { ChannelPlugin } from "../src/channels/channel.js";
import { registerChannelPlugin } from "../src/channels/registry.js";
import { attemptChannels, deliveryChannels, fallbackChannels, geoChannels, selectableChannels } from "../src/domain/channels.js";
import { registerFactorType } from "../src/domain/factor/types/index.js";
import type { FactorStrategy } from "../src/domain/factor/types/strategy.js";
import { registerTransport } from "../src/providers/plugins.js";
import { type OutgoingMessage, transportPlugin } from "../src/providers/provider.js";
import type { TestGateway } from "./support/gateway.js";

// Plug-ins registered at run time through the public registration API, before the configuration is
// loaded and the schema built (the gateway and its schema are imported only afterwards): a throwaway
// channel, the throwaway transport that carries it, and a throwaway factor type.

const pigeon: ChannelPlugin = {
  name: "PIGEON",
  address: "phone",
  selectable: true,
  delivers: true,
  attempt: true,
  geo: false,
  psd2: true,
  describe: { channel: "A carrier pigeon", attempt: "A carrier pigeon", fallback: "A carrier pigeon" },
  render: (input) => ({ to: input.to, channel: "PIGEON", body: `Coo ${input.friendlyName}: ${input.code}`, locale: input.locale }),
};

const loftMessages: (OutgoingMessage & { loft: string })[] = [];
const loft = transportPlugin({
  name: "loft",
  channels: { PIGEON: "PIGEON_LOFT" },
  env: {
    PIGEON_LOFT: z
      .string()
      .regex(/^[a-z]+$/, "must be a loft name")
      .optional(),
  },
  options: (env) => (env.PIGEON_LOFT ? { loft: env.PIGEON_LOFT as string } : null),
  create: (options) => ({
    name: "loft",
    async send(message) {
      loftMessages.push({ ...message, loft: options.loft });
      return { status: "SENT", providerMessageId: `coo-${loftMessages.length}` };
    },
  }),
});

/** A factor proven by a PIN chosen at enrolment (metadata.pin): enrol, verify, challenge and answer. */
const pin: FactorStrategy = {
  type: "PIN",
  description: "A PIN chosen at enrolment",
  needsIdentity: true,
  enrol: (_ctx, input) => ({ config: { pin: String((input.metadata as { pin?: unknown } | null)?.pin ?? "") }, publicKey: null, secret: null }),
  requireAnswer: (input) => {
    if (!input.code) throw new Error("a PIN is required");
  },
  verify: async (_ctx, factor, input) => (input.code === factor.config?.pin ? { ok: true } : { ok: false, message: "The factor was not verified: wrong PIN." }),
  challenge: () => ({ jobs: [] }),
  answer: async (_ctx, _challenge, factor, input) => (input.code === factor.config?.pin ? { ok: true, status: "APPROVED" } : { ok: false, message: "The answer was refused: wrong PIN." }),
};

registerChannelPlugin(pigeon);
registerTransport(loft);
registerFactorType(pin);

const START = `mutation($input: StartVerificationInput!) { startVerification(input: $input) { verification { sid status channel sendCodeAttempts { channel status providerMessageId } } } }`;
const CHECK = `mutation($input: CheckVerificationInput!) { checkVerification(input: $input) { verification { sid status valid } } }`;
const ENUM = `query($name: String!) { __type(name: $name) { enumValues { name description } } }`;

describe("plug-ins registered at run time", () => {
  let gw: TestGateway;
  beforeAll(async () => {
    const { startGateway } = await import("./support/gateway.js");
    gw = await startGateway({ env: { PIGEON_LOFT: "north" } });
  });
  afterAll(async () => {
    await gw?.close();
  });

  it("the catalogue derives every channel list from the registration", () => {
    expect(selectableChannels()).toEqual(["SMS", "WHATSAPP", "CALL", "EMAIL", "SNA", "AUTO", "PIGEON"]);
    expect(deliveryChannels()).toEqual(["SMS", "WHATSAPP", "CALL", "EMAIL", "PIGEON"]);
    expect(attemptChannels()).toEqual(["SMS", "RCS", "WHATSAPP", "CALL", "EMAIL", "SNA", "PIGEON"]);
    expect(fallbackChannels()).toEqual(["SMS", "WHATSAPP", "CALL", "EMAIL", "PIGEON"]);
    expect(geoChannels()).toEqual(["SMS", "WHATSAPP", "CALL"]);
  });

  it("a name is registered once, in upper case", () => {
    expect(() => registerChannelPlugin({ ...pigeon })).toThrow(/registered twice/);
    expect(() => registerChannelPlugin({ ...pigeon, name: "dove" })).toThrow(/upper case/);
    expect(() => registerTransport({ ...loft })).toThrow(/registered twice/);
    expect(() => registerFactorType({ ...pin })).toThrow(/registered twice/);
  });

  it("the schema's enums include the channel and the factor type registered before it was built", async () => {
    const values = async (name: string) => ((await gw.gql(ENUM, { name })).data?.__type.enumValues as { name: string }[]).map((v) => v.name);
    expect(await values("Channel")).toContain("PIGEON");
    expect(await values("AttemptChannel")).toContain("PIGEON");
    expect(await values("FallbackChannel")).toContain("PIGEON");
    expect(await values("GeoChannel")).not.toContain("PIGEON");
    expect((await values("FactorType")).sort()).toEqual(["PASSKEY", "PIN", "PUSH", "TOTP"]);
  });

  it("a verification over the throwaway channel reaches the throwaway transport, and its code approves", async () => {
    const started = await gw.gql(START, { input: { serviceSid: gw.defaultServiceSid, to: "+14155553077", channel: "PIGEON" } });
    expect(started.errors).toBeUndefined();
    const sid = started.data!.startVerification.verification.sid as string;
    expect(started.data!.startVerification.verification.channel).toBe("PIGEON");
    await gw.app.dispatcher.idle();
    const message = loftMessages.find((m) => m.verificationSid === sid);
    expect(message).toMatchObject({ to: "+14155553077", channel: "PIGEON", loft: "north" });
    expect(message!.body).toBe(`Coo Default: ${message!.code}`);
    // Carried by its transport, not the dev outbox.
    const outbox = await gw.gql(`{ devOutbox { verificationSid } }`);
    expect(outbox.data!.devOutbox.map((m: { verificationSid: string }) => m.verificationSid)).not.toContain(sid);
    const read = await gw.gql(`query($sid: ID!) { verification(sid: $sid) { sendCodeAttempts { channel status providerMessageId } } }`, { sid });
    expect(read.data!.verification.sendCodeAttempts).toEqual([{ channel: "PIGEON", status: "SENT", providerMessageId: "coo-1" }]);
    const wrong = await gw.gql(CHECK, { input: { serviceSid: gw.defaultServiceSid, to: "+14155553077", code: message!.code === "000000" ? "111111" : "000000" } });
    expect(wrong.data!.checkVerification.verification.status).toBe("PENDING");
    const checked = await gw.gql(CHECK, { input: { serviceSid: gw.defaultServiceSid, to: "+14155553077", code: message!.code } });
    expect(checked.data!.checkVerification.verification).toMatchObject({ sid, status: "APPROVED", valid: true });
  });

  it("a service may enable only the channels of the catalogue", async () => {
    const update = `mutation($input: UpdateServiceInput!) { updateService(input: $input) { channels } }`;
    const ok = await gw.gql(update, { input: { sid: gw.defaultServiceSid, channels: ["SMS", "PIGEON"] } });
    expect(ok.errors).toBeUndefined();
    expect(ok.data!.updateService.channels).toEqual(["SMS", "PIGEON"]);
    const disabled = await gw.gql(START, { input: { serviceSid: gw.defaultServiceSid, to: "+14155553078", channel: "EMAIL" } });
    expect(disabled.errors?.[0]?.extensions?.code).toBe("CHANNEL_DISABLED");
  });

  it("the throwaway factor type enrols, verifies, is challenged and answers", async () => {
    const created = await gw.gql(`mutation($input: CreateFactorInput!) { createFactor(input: $input) { factor { sid status factorType } totp { secret } } }`, {
      input: { serviceSid: gw.defaultServiceSid, identity: "pin-user", friendlyName: "My PIN", factorType: "PIN", metadata: { pin: "2468" } },
    });
    expect(created.errors).toBeUndefined();
    const factor = created.data!.createFactor.factor;
    expect(factor).toMatchObject({ status: "UNVERIFIED", factorType: "PIN" });
    expect(created.data!.createFactor.totp).toBeNull();
    const verify = `mutation($input: VerifyFactorInput!) { verifyFactor(input: $input) { status } }`;
    expect((await gw.gql(verify, { input: { sid: factor.sid, code: "1357" } })).errors?.[0]?.extensions?.code).toBe("FACTOR_VERIFICATION_FAILED");
    expect((await gw.gql(verify, { input: { sid: factor.sid, code: "2468" } })).data?.verifyFactor.status).toBe("VERIFIED");
    const challenged = await gw.gql(`mutation($input: CreateChallengeInput!) { createChallenge(input: $input) { challenge { sid status factorType } } }`, {
      input: { serviceSid: gw.defaultServiceSid, identity: "pin-user", factorType: "PIN" },
    });
    expect(challenged.errors).toBeUndefined();
    const challenge = challenged.data!.createChallenge.challenge;
    expect(challenge).toMatchObject({ status: "PENDING", factorType: "PIN" });
    const answer = `mutation($input: UpdateChallengeInput!) { updateChallenge(input: $input) { status } }`;
    expect((await gw.gql(answer, { input: { sid: challenge.sid, code: "2468" } })).data?.updateChallenge.status).toBe("APPROVED");
  });
});
