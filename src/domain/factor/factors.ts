import { randomBytes } from "node:crypto";
import { z } from "zod";
import type { ChallengeRecord, FactorRecord, OutboxJob, PageRequest, Store } from "../../store/port.js";
import { publicChallenge, publicFactor } from "../../store/rows.js";
import type { Clock } from "../clock.js";
import { type Keyring, open, seal } from "../crypto.js";
import { VerifyError, invalidParameter, notFound } from "../errors.js";
import type { EventSink } from "../events.js";
import { fallbackChannels } from "../channels.js";
import { isSid, newSid } from "../ids.js";
import type { Challenge, ChallengeFallback, ChallengeStatus, Factor, Page, PushConfig, Service, TotpConfig, Verification } from "../types.js";
import { parseInput } from "../validation.js";
import { AnswerAttempts, type Requester, type SecurityLog } from "./attempts.js";
import { assertAnswerable, newChallenge } from "./challenge.js";
import type { PasskeyFlow } from "./passkeys.js";
import { DeviceKeys, parseDeviceKey, pushSettingsInput, verifyAnswer, verifyPossession } from "./push.js";
import { matchTotp, newTotpSecret, totpQrSvg, totpSettingsInput, totpUri } from "./totp.js";


/** Who asks: a service scope (null: admin), and for a device or a client token, the one thing it may touch. */
export interface Scope extends Requester {
  serviceSid: string | null;
  factorSid?: string;
  challengeSid?: string;
}

export interface FactorFlowDeps {
  store: Store;
  clock: Clock;
  keys: Keyring;
  sink: EventSink;
  log: SecurityLog;
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
      channel: z.string().refine((c) => fallbackChannels().includes(c), { error: () => `must be one of ${fallbackChannels().join(", ")}` }),
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
  private readonly attempts: AnswerAttempts;

  constructor(private readonly deps: FactorFlowDeps) {
    this.attempts = new AnswerAttempts(deps);
  }

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
    if (factor.factorType === "PASSKEY") return this.deps.passkeys.verifyFactor(sid, scope.serviceSid, input.passkeyResponse, scope);
    if (factor.status === "VERIFIED") return publicFactor(factor);
    if (factor.factorType === "TOTP" && !input.code) throw invalidParameter("code", "Invalid parameter `code`: the code the authenticator app shows is required.");
    if (factor.factorType === "PUSH" && !input.authPayload) throw invalidParameter("authPayload", "Invalid parameter `authPayload`: a JWT `{ sub: factorSid }` signed with the device key is required.");
    const claim = await this.attempts.claimVerification(factor);
    if ("verified" in claim) return publicFactor(claim.verified);
    const claimed = claim.claimed;
    const now = this.deps.clock.now();
    let counter: number | undefined;
    if (claimed.factorType === "TOTP") {
      const match = matchTotp(this.totpSecret(claimed), input.code ?? "", totpConfig(claimed), now);
      if (!match.ok) return this.attempts.verificationFailed(claimed, "The factor was not verified: the code is wrong.", scope);
      this.reportDrift(match.driftSteps, { serviceSid: claimed.serviceSid, factorSid: claimed.sid });
      counter = match.step;
    } else {
      const key = this.deviceKeys.get(claimed.sid, claimed.publicKey ?? "");
      if (!(await verifyPossession(input.authPayload ?? "", key, claimed.sid, now))) return this.attempts.verificationFailed(claimed, "The factor was not verified: the proof was not signed by this factor's key.", scope);
    }
    const verified = await this.deps.store.verifyFactor(sid, { counter }, now);
    if (!verified) return publicFactor((await this.deps.store.getFactor(sid)) as FactorRecord);
    this.deps.sink.publish([verified.event]);
    return verified.factor;
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
    if (record.factorType === "PASSKEY") return this.deps.passkeys.updateChallenge(sid, scope.serviceSid, input.passkeyResponse, scope);
    const now = this.deps.clock.now();
    assertAnswerable(record, now);
    const factor = record.factorSid ? await this.deps.store.getFactor(record.factorSid) : null;
    if (!factor) throw new VerifyError("CHALLENGE_VERIFICATION_FAILED", "The factor of this challenge was deleted.");
    if (record.factorType === "TOTP" && !input.code) throw invalidParameter("code", "Invalid parameter `code`: the code the authenticator app shows is required.");
    if (record.factorType === "PUSH" && !input.authPayload) throw invalidParameter("authPayload", "Invalid parameter `authPayload`: the device's signed answer (compact ES256 JWS) is required.");
    const claimed = await this.attempts.claimAnswer(record);
    if (claimed.factorType === "TOTP") {
      const match = matchTotp(this.totpSecret(factor), input.code ?? "", totpConfig(factor), now);
      if (!match.ok) return this.attempts.answerFailed(claimed, "The answer was refused: the code is wrong.", scope);
      this.reportDrift(match.driftSteps, { serviceSid: claimed.serviceSid, factorSid: factor.sid, challengeSid: claimed.sid });
      return this.settle(claimed, factor, { status: "APPROVED", totpStep: match.step }, scope);
    }
    const answer = await verifyAnswer(input.authPayload ?? "", this.deviceKeys.get(factor.sid, factor.publicKey ?? ""), publicChallenge(claimed));
    if (!answer.ok) return this.attempts.answerFailed(claimed, `The answer was refused: ${answer.reason}.`, scope);
    return this.settle(claimed, factor, { status: answer.status }, scope);
  }

  /**
   * An accepted code from a neighbouring time step: the device's clock is off by that many steps. Told to
   * the operator (a clock that drifts further will soon fail), and only for accepted codes, never refused ones.
   */
  private reportDrift(driftSteps: number, sids: Record<string, string>): void {
    if (driftSteps !== 0) this.deps.log.info({ ...sids, driftSteps }, `TOTP code accepted from a device clock ${Math.abs(driftSteps)} step(s) ${driftSteps < 0 ? "behind" : "ahead"}`);
  }

  /** A right answer (a push device's denial is one too): the challenge's final state, and its claimed attempt given back. */
  private async settle(claimed: ChallengeRecord, factor: FactorRecord, answer: { status: "APPROVED" | "DENIED"; totpStep?: number }, requester: Requester): Promise<Challenge> {
    const settled = await this.deps.store.respondChallenge({ sid: claimed.sid, status: answer.status, factorSid: factor.sid, identity: factor.identity, counter: null, totpStep: answer.totpStep, releaseClaim: true, now: this.deps.clock.now() });
    if (settled.ok) {
      this.deps.sink.publish(settled.events);
      return settled.challenge;
    }
    if (settled.reason === "REPLAY") return this.attempts.answerFailed(claimed, "The answer was refused: this code was already used; wait for the next one.", requester, "replay");
    if (settled.reason === "EXPIRED") throw new VerifyError("CHALLENGE_EXPIRED", "This challenge has expired; create a new one.");
    throw new VerifyError("CHALLENGE_ALREADY_RESPONDED", "This challenge was already answered.");
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

