import { randomBytes } from "node:crypto";
import { z } from "zod";
import type { ChallengeRecord, FactorRecord, OutboxJob, PageRequest, Store } from "../../store/port.js";
import { publicChallenge, publicFactor } from "../../store/rows.js";
import type { Clock } from "../clock.js";
import { type Keyring, open, seal } from "../crypto.js";
import { VerifyError, invalidParameter, notFound } from "../errors.js";
import type { EventSink } from "../events.js";
import { isSid, newSid } from "../ids.js";
import type { Challenge, ChallengeFallback, ChallengeStatus, Factor, Page, PushConfig, Service, TotpConfig, Verification } from "../types.js";
import { parseInput } from "../validation.js";
import { MAX_FAILURES, assertAnswerable, newChallenge } from "./challenge.js";
import type { PasskeyFlow } from "./passkeys.js";
import { DeviceKeys, parseDeviceKey, pushSettingsInput, verifyAnswer, verifyPossession } from "./push.js";
import { matchTotp, newTotpSecret, totpQrSvg, totpSettingsInput, totpUri } from "./totp.js";


/** Who asks: a service scope (null: admin), and for a device or a client token, the one thing it may touch. */
export interface Scope {
  serviceSid: string | null;
  factorSid?: string;
  challengeSid?: string;
}

export interface FactorFlowDeps {
  store: Store;
  clock: Clock;
  keys: Keyring;
  sink: EventSink;
  services: { require(sid: string): Promise<Service> };
  passkeys: PasskeyFlow;
  /** Starts the OTP verification a silent challenge falls back to. */
  startVerification: (input: { serviceSid: string; to: string; channel: string }) => Promise<Verification>;
  /** Checked when a challenge is created, so a bad fallback fails then, not minutes later. */
  validateFallback: (channel: string, to: string) => void;
  /** Why a Web Push endpoint may not be enrolled (SSRF guard, allowed push services), or null. */
  webPushEndpointRefusal: (endpoint: string) => string | null;
}

const identity = z.string().trim().min(1).max(256);
const createFactorInput = z.object({
  serviceSid: z.string(),
  identity,
  friendlyName: z.string().trim().min(1).max(64),
  factorType: z.enum(["PUSH", "TOTP", "PASSKEY"]),
  push: pushSettingsInput.nullish(),
  totp: totpSettingsInput.nullish(),
  metadata: z.record(z.string(), z.unknown()).nullish(),
});

const answerInput = z.object({
  code: z.string().trim().min(1).max(16).regex(/^\d+$/, "must be digits").nullish(),
  authPayload: z.string().trim().min(1).max(16_384).nullish(),
  passkeyResponse: z.unknown().optional(),
});

const challengeInput = z.object({
  serviceSid: z.string(),
  identity: identity.nullish(),
  factorSid: z.string().nullish(),
  factorType: z.enum(["PUSH", "TOTP", "PASSKEY"]).nullish(),
  details: z
    .object({
      message: z.string().trim().min(1).max(1024),
      fields: z.array(z.object({ label: z.string().trim().min(1).max(128), value: z.string().max(1024) })).max(20).nullish(),
    })
    .nullish(),
  hiddenDetails: z.record(z.string(), z.unknown()).nullish(),
  expiresInSeconds: z.number().int().min(1).max(3600).nullish(),
  silent: z.boolean().nullish(),
  fallback: z
    .object({
      channel: z.enum(["SMS", "WHATSAPP", "CALL", "EMAIL"]),
      to: z.string().trim().min(3).max(254),
      afterSeconds: z.number().int().min(1).max(600).nullish(),
    })
    .nullish(),
});

/** How long a silent challenge waits for its device before the OTP fallback starts, unless told. */
const DEFAULT_FALLBACK_SECONDS = 20;

/**
 * Entity → Factor → Challenge for every factor type: TOTP seeds, push device keys and passkeys (the
 * WebAuthn ceremony lives in PasskeyFlow). Every change is an event, so `challengeUpdated` works as
 * `verificationUpdated` does.
 */
export class FactorFlow {
  private readonly deviceKeys = new DeviceKeys();

  constructor(private readonly deps: FactorFlowDeps) {}

  // ── factors ─────────────────────────────────────────────────────────────────────────────────────

  async createFactor(raw: unknown): Promise<{ factor: Factor; totp: { secret: string; uri: string; qrCodeSvg: string } | null; passkeyCreationOptions: unknown }> {
    const input = parseInput(createFactorInput, raw);
    if (input.factorType === "PASSKEY") return { ...(await this.deps.passkeys.createFactor(raw)), totp: null };
    const service = await this.deps.services.require(input.serviceSid);
    const now = this.deps.clock.now();
    const sid = newSid("YF");
    let config: TotpConfig | PushConfig;
    let publicKey: string | null = null;
    let secret: string | null = null;
    if (input.factorType === "TOTP") {
      if (input.push) throw invalidParameter("push", "Invalid parameter `push`: only for PUSH factors.");
      const d = service.totp;
      const t = input.totp ?? {};
      config = { timeStep: t.timeStep ?? d.timeStep, codeLength: t.codeLength ?? d.codeLength, skew: t.skew ?? d.skew, algorithm: t.algorithm ?? d.algorithm };
      secret = newTotpSecret(config);
    } else {
      if (!input.push) throw invalidParameter("push", "Invalid parameter `push`: a PUSH factor needs the device's `publicKey`.");
      if (input.totp) throw invalidParameter("totp", "Invalid parameter `totp`: only for TOTP factors.");
      const p = input.push;
      parseDeviceKey(p.publicKey);
      const platform = p.notificationPlatform ?? (p.webPushSubscription ? "WEBPUSH" : "NONE");
      if (platform === "WEBPUSH" && !p.webPushSubscription) throw invalidParameter("push.webPushSubscription", "Invalid parameter `push.webPushSubscription`: WEBPUSH needs the browser's PushSubscription (endpoint and keys).");
      const refusal = p.webPushSubscription ? this.deps.webPushEndpointRefusal(p.webPushSubscription.endpoint) : null;
      if (refusal) throw invalidParameter("push.webPushSubscription", `Invalid parameter \`push.webPushSubscription\`: ${refusal}.`);
      if ((platform === "FCM" || platform === "APN") && !p.notificationToken) throw invalidParameter("push.notificationToken", `Invalid parameter \`push.notificationToken\`: ${platform} needs the device's registration token.`);
      publicKey = p.publicKey;
      config = { alg: "ES256", notificationPlatform: platform, notificationToken: p.notificationToken ?? null, webPushSubscription: p.webPushSubscription ?? null, silentApproval: p.silentApproval ?? false };
    }
    const entity = await this.deps.store.ensureEntity({ sid: newSid("YE"), serviceSid: service.sid, identity: input.identity, userHandle: randomBytes(32).toString("base64url") }, now);
    const factor: Factor = { sid, serviceSid: service.sid, entitySid: entity.sid, identity: input.identity, factorType: input.factorType, status: "UNVERIFIED", friendlyName: input.friendlyName, dateCreated: now, dateUpdated: now };
    const event = await this.deps.store.createFactor({
      ...factor,
      pendingChallenge: null,
      metadata: input.metadata ?? null,
      publicKey,
      config: config as unknown as Record<string, unknown>,
      // The seed is sealed to its factor: a sealed value moved to another row does not open.
      secretSealed: secret ? seal(this.deps.keys, secret, sid) : null,
    });
    this.deps.sink.publish([event]);
    if (!secret) return { factor, totp: null, passkeyCreationOptions: null };
    const uri = totpUri({ issuer: service.totp.issuer ?? service.friendlyName, label: input.friendlyName, secret, config: config as TotpConfig });
    return { factor, totp: { secret, uri, qrCodeSvg: await totpQrSvg(uri) }, passkeyCreationOptions: null };
  }

  async getFactor(sid: string): Promise<Factor | null> {
    const factor = isSid(sid, "YF") ? await this.deps.store.getFactor(sid) : null;
    return factor ? publicFactor(factor) : null;
  }

  /** A factor the caller may touch: unknown and out of scope look the same. */
  async requireFactor(sid: string, scope: Scope): Promise<FactorRecord> {
    const factor = isSid(sid, "YF") ? await this.deps.store.getFactor(sid) : null;
    if (!factor || (scope.serviceSid && factor.serviceSid !== scope.serviceSid) || (scope.factorSid && factor.sid !== scope.factorSid)) throw notFound("Factor");
    return factor;
  }

  /** The key a push factor's device signs with (device tokens are checked against it). */
  async deviceKey(factorSid: string) {
    const factor = isSid(factorSid, "YF") ? await this.deps.store.getFactor(factorSid) : null;
    if (!factor || factor.factorType !== "PUSH" || !factor.publicKey) return null;
    return { serviceSid: factor.serviceSid, key: this.deviceKeys.get(factor.sid, factor.publicKey) };
  }

  /** TOTP: the first correct code; PUSH: a JWS `{ sub: factorSid }` by the device key; PASSKEY: the registration. */
  async verifyFactor(sid: string, scope: Scope, raw: unknown): Promise<Factor> {
    const input = parseInput(answerInput, raw);
    const factor = await this.requireFactor(sid, scope);
    if (factor.factorType === "PASSKEY") return this.deps.passkeys.verifyFactor(sid, scope.serviceSid, input.passkeyResponse);
    if (factor.status === "VERIFIED") return publicFactor(factor);
    if (factor.failedAttempts >= MAX_FAILURES) throw new VerifyError("TOO_MANY_ATTEMPTS", "Too many failed verifications for this factor; create a new one.");
    const now = this.deps.clock.now();
    let counter: number | undefined;
    if (factor.factorType === "TOTP") {
      if (!input.code) throw invalidParameter("code", "Invalid parameter `code`: the code the authenticator app shows is required.");
      const match = matchTotp(this.totpSecret(factor), input.code, totpConfig(factor), now);
      if (!match.ok) return this.failFactor(factor, "the code is wrong", match.driftSteps);
      counter = match.step;
    } else {
      if (!input.authPayload) throw invalidParameter("authPayload", "Invalid parameter `authPayload`: a JWT `{ sub: factorSid }` signed with the device key is required.");
      const key = this.deviceKeys.get(factor.sid, factor.publicKey ?? "");
      if (!(await verifyPossession(input.authPayload, key, factor.sid, now))) return this.failFactor(factor, "the proof was not signed by this factor's key", null);
    }
    const verified = await this.deps.store.verifyFactor(sid, { counter }, now);
    if (!verified) return publicFactor((await this.deps.store.getFactor(sid)) as FactorRecord);
    this.deps.sink.publish([verified.event]);
    return verified.factor;
  }

  private async failFactor(factor: FactorRecord, reason: string, driftSteps: number | null): Promise<never> {
    const failures = await this.deps.store.failFactor(factor.sid, this.deps.clock.now());
    if (failures >= MAX_FAILURES) throw new VerifyError("TOO_MANY_ATTEMPTS", "Too many failed verifications for this factor; create a new one.");
    throw new VerifyError("FACTOR_VERIFICATION_FAILED", `The factor was not verified: ${reason}.${drift(driftSteps)}`, driftSteps !== null ? { driftSteps } : {});
  }

  async deleteFactor(sid: string, scope: Scope): Promise<Factor> {
    await this.requireFactor(sid, scope);
    const deleted = await this.deps.store.deleteFactor(sid, this.deps.clock.now());
    if (!deleted) throw notFound("Factor");
    this.deps.sink.publish([deleted.event]);
    return deleted.factor;
  }

  // ── challenges ──────────────────────────────────────────────────────────────────────────────────

  async createChallenge(raw: unknown): Promise<{ challenge: Challenge; passkeyRequestOptions: unknown }> {
    const input = parseInput(challengeInput, raw);
    const service = await this.deps.services.require(input.serviceSid);
    let factor: FactorRecord | null = null;
    if (input.factorSid) {
      factor = await this.requireFactor(input.factorSid, { serviceSid: service.sid });
      if (input.identity && factor.identity !== input.identity) throw notFound("Factor");
      if (input.factorType && input.factorType !== factor.factorType) throw invalidParameter("factorType", "Invalid parameter `factorType`: the factor is of another type.");
    } else if (input.factorType && input.factorType !== "PASSKEY") {
      if (!input.identity) throw invalidParameter("identity", `Invalid parameter \`identity\`: a ${input.factorType} challenge needs the identity (or a factorSid).`);
      factor = await this.deps.store.newestVerifiedFactor(service.sid, input.identity, input.factorType);
      if (!factor) throw new VerifyError("FACTOR_NOT_VERIFIED", `This identity has no verified ${input.factorType} factor.`);
    }
    if (!factor || factor.factorType === "PASSKEY") {
      if (input.silent || input.fallback) throw invalidParameter(input.silent ? "silent" : "fallback", "Invalid parameter: silent approval is for PUSH factors.");
      return this.deps.passkeys.createChallenge(raw);
    }
    if (factor.status !== "VERIFIED") throw new VerifyError("FACTOR_NOT_VERIFIED", "The factor is not verified yet.");
    const push = factor.factorType === "PUSH" ? pushConfig(factor) : null;
    if (push && !input.details) throw invalidParameter("details", "Invalid parameter `details`: a push challenge needs the message shown to the user.");
    if (input.silent && !push) throw invalidParameter("silent", "Invalid parameter `silent`: silent approval is for PUSH factors.");
    if (input.silent && push && !push.silentApproval) throw invalidParameter("silent", "Invalid parameter `silent`: this factor was not enrolled with silentApproval.");
    if (input.fallback && !input.silent) throw invalidParameter("fallback", "Invalid parameter `fallback`: a fallback is for silent challenges.");
    const now = this.deps.clock.now();
    const expiresInSeconds = input.expiresInSeconds ?? 300;
    let fallback: ChallengeFallback | null = null;
    if (input.fallback) {
      this.deps.validateFallback(input.fallback.channel, input.fallback.to);
      fallback = { channel: input.fallback.channel, to: input.fallback.to, afterSeconds: input.fallback.afterSeconds ?? Math.min(DEFAULT_FALLBACK_SECONDS, expiresInSeconds) };
      if (fallback.afterSeconds >= expiresInSeconds) throw invalidParameter("fallback.afterSeconds", "Invalid parameter `fallback.afterSeconds`: must be shorter than the challenge's expiry.");
    }
    const challenge = newChallenge({
      serviceSid: service.sid,
      factorSid: factor.sid,
      identity: factor.identity,
      factorType: factor.factorType,
      details: input.details,
      hiddenDetails: input.hiddenDetails,
      now,
      expiresInSeconds,
      silent: input.silent,
    });
    const jobs: { kind: OutboxJob["kind"]; runAt: number }[] = [];
    if (push && push.notificationPlatform !== "NONE") jobs.push({ kind: "push_notify", runAt: now });
    if (fallback) jobs.push({ kind: "challenge_fallback", runAt: now + fallback.afterSeconds * 1000 });
    this.deps.sink.publish([await this.deps.store.createChallenge(challenge, { fallback, jobs })]);
    return { challenge, passkeyRequestOptions: null };
  }

  async getChallenge(sid: string): Promise<Challenge | null> {
    const record = isSid(sid, "YC") ? await this.deps.store.getChallenge(sid) : null;
    return record ? this.current(record) : null;
  }

  async listChallenges(factorSid: string, scope: Scope, status: ChallengeStatus | null, page: PageRequest): Promise<Page<Challenge>> {
    const factor = isSid(factorSid, "YF") ? await this.deps.store.getFactor(factorSid) : null;
    const empty = { edges: [], hasNextPage: false, endCursor: null };
    if (!factor || (scope.serviceSid && factor.serviceSid !== scope.serviceSid) || (scope.factorSid && factor.sid !== scope.factorSid)) return empty;
    // PENDING past its expiry reads as EXPIRED, whatever the sweeper has written down yet.
    const page$ = await this.deps.store.listChallenges(factorSid, status, page);
    const edges = page$.edges.map((e) => ({ cursor: e.cursor, node: this.current(e.node) }));
    return { ...page$, edges: status === "PENDING" ? edges.filter((e) => e.node.status === "PENDING") : edges };
  }

  /** A challenge past its expiry is EXPIRED, whether or not anything has written that down yet. */
  private current(record: ChallengeRecord): Challenge {
    const challenge = publicChallenge(record);
    return challenge.status === "PENDING" && challenge.expiresAt <= this.deps.clock.now() ? { ...challenge, status: "EXPIRED" } : challenge;
  }

  /** TOTP: a code; PUSH: the device's signed answer; PASSKEY: the assertion. */
  async updateChallenge(sid: string, scope: Scope, raw: unknown): Promise<Challenge> {
    const input = parseInput(answerInput, raw);
    const record = isSid(sid, "YC") ? await this.deps.store.getChallenge(sid) : null;
    if (!record || (scope.serviceSid && record.serviceSid !== scope.serviceSid) || (scope.factorSid && record.factorSid !== scope.factorSid) || (scope.challengeSid && record.sid !== scope.challengeSid)) {
      throw notFound("Challenge");
    }
    if (record.factorType === "PASSKEY") return this.deps.passkeys.updateChallenge(sid, scope.serviceSid, input.passkeyResponse);
    const now = this.deps.clock.now();
    assertAnswerable(record, now);
    const factor = record.factorSid ? await this.deps.store.getFactor(record.factorSid) : null;
    if (!factor) throw new VerifyError("CHALLENGE_VERIFICATION_FAILED", "The factor of this challenge was deleted.");
    if (record.factorType === "TOTP") {
      if (!input.code) throw invalidParameter("code", "Invalid parameter `code`: the code the authenticator app shows is required.");
      const match = matchTotp(this.totpSecret(factor), input.code, totpConfig(factor), now);
      if (!match.ok) return this.failChallenge(record, "the code is wrong", match.driftSteps);
      return this.settle(record, factor, { status: "APPROVED", totpStep: match.step });
    }
    if (!input.authPayload) throw invalidParameter("authPayload", "Invalid parameter `authPayload`: the device's signed answer (compact ES256 JWS) is required.");
    const answer = await verifyAnswer(input.authPayload, this.deviceKeys.get(factor.sid, factor.publicKey ?? ""), publicChallenge(record));
    if (!answer.ok) return this.failChallenge(record, answer.reason, null);
    return this.settle(record, factor, { status: answer.status });
  }

  private async settle(record: ChallengeRecord, factor: FactorRecord, answer: { status: "APPROVED" | "DENIED"; totpStep?: number }): Promise<Challenge> {
    const settled = await this.deps.store.respondChallenge({ sid: record.sid, status: answer.status, factorSid: factor.sid, identity: factor.identity, counter: null, totpStep: answer.totpStep, now: this.deps.clock.now() });
    if (settled.ok) {
      this.deps.sink.publish(settled.events);
      return settled.challenge;
    }
    if (settled.reason === "REPLAY") return this.failChallenge(record, "this code was already used; wait for the next one", null);
    if (settled.reason === "EXPIRED") throw new VerifyError("CHALLENGE_EXPIRED", "This challenge has expired; create a new one.");
    throw new VerifyError("CHALLENGE_ALREADY_RESPONDED", "This challenge was already answered.");
  }

  /** Counts a failed answer; the fifth denies the challenge (subscribers see DENIED). */
  private async failChallenge(record: ChallengeRecord, reason: string, driftSteps: number | null): Promise<never> {
    const now = this.deps.clock.now();
    const failures = await this.deps.store.failChallenge(record.sid, now);
    if (failures >= MAX_FAILURES) {
      const denied = await this.deps.store.respondChallenge({ sid: record.sid, status: "DENIED", factorSid: record.factorSid as string, identity: record.identity as string, counter: null, now });
      if (denied.ok) this.deps.sink.publish(denied.events);
      throw new VerifyError("TOO_MANY_ATTEMPTS", "Too many failed answers for this challenge; it is denied.", { twilioCode: 60308 });
    }
    throw new VerifyError("CHALLENGE_VERIFICATION_FAILED", `The answer was refused: ${reason}.${drift(driftSteps)}`, driftSteps !== null ? { driftSteps } : {});
  }

  // ── silent approval's fallback (outbox job) ─────────────────────────────────────────────────────

  /** A silent challenge nobody answered in time: start the OTP verification and link it, once. */
  async runFallback(challengeSid: string): Promise<void> {
    const record = await this.deps.store.getChallenge(challengeSid);
    if (!record || !record.fallback || record.status !== "PENDING" || record.fallbackVerificationSid || record.expiresAt <= this.deps.clock.now()) return;
    const verification = await this.deps.startVerification({ serviceSid: record.serviceSid, to: record.fallback.to, channel: record.fallback.channel });
    const linked = await this.deps.store.linkChallengeFallback(challengeSid, verification.sid, this.deps.clock.now());
    if (linked) this.deps.sink.publish([linked.event]);
  }

  /** The fallback verification was approved: so is its challenge. */
  async fallbackApproved(verificationSid: string): Promise<void> {
    const record = await this.deps.store.findChallengeByFallback(verificationSid);
    if (!record || record.status !== "PENDING" || !record.factorSid || !record.identity) return;
    const settled = await this.deps.store.respondChallenge({ sid: record.sid, status: "APPROVED", factorSid: record.factorSid, identity: record.identity, counter: null, now: this.deps.clock.now() });
    if (settled.ok) this.deps.sink.publish(settled.events);
  }

  private totpSecret(factor: FactorRecord): string {
    if (!factor.secretSealed) throw new Error(`TOTP factor ${factor.sid} has no secret`);
    return open(this.deps.keys, factor.secretSealed, factor.sid);
  }
}

export const totpConfig = (factor: FactorRecord): TotpConfig => factor.config as unknown as TotpConfig;
export const pushConfig = (factor: FactorRecord): PushConfig => factor.config as unknown as PushConfig;

const drift = (steps: number | null) =>
  steps === null ? "" : ` The code matches ${Math.abs(steps)} time step${Math.abs(steps) === 1 ? "" : "s"} ${steps < 0 ? "behind" : "ahead of"} the server: the device's clock seems off.`;

