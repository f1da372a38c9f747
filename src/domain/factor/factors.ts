import { randomBytes } from "node:crypto";
import { z } from "zod";
import type { ChallengeRecord, EntityChallengeFilter, EntityRecord, FactorRecord, OutboxJob, PageRequest, FactorStore } from "../ports/index.js";
import type { Clock } from "../clock.js";
import { type Keyring, seal } from "../crypto.js";
import { VerifyError, entityDeleted, invalidParameter, notFound } from "../errors.js";
import { fallbackChannels } from "../channels.js";
import { isSid, newSid } from "../ids.js";
import type { Challenge, ChallengeFallback, ChallengeStatus, Factor, Page, Service, Verification } from "../types.js";
import { parseInput } from "../validation.js";
import { AnswerAttempts, type Requester, type SecurityLog } from "./attempts.js";
import { assertAnswerable, newChallenge } from "./challenge.js";
import type { PasskeyFlow } from "./passkeys.js";
import { publicChallenge, publicFactor } from "./projections.js";
import { DeviceKeys } from "./push.js";
import { factorTypes, isFactorType, strategyOf } from "./types/index.js";
import type { EnrolInput, FactorContext } from "./types/strategy.js";

import { pushConfig } from "./types/push.js";

export { pushConfig };
export { totpConfig } from "./types/totp.js";

/** Who asks: a service scope (null: admin), and for a device or a client token, the one thing it may touch. */
export interface Scope extends Requester {
  serviceSid: string | null;
  factorSid?: string;
  challengeSid?: string;
}

export interface FactorFlowDeps {
  store: FactorStore;
  clock: Clock;
  keys: Keyring;
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
const factorType = z.string().refine(isFactorType, {
  error: () =>
    `must be one of ${factorTypes()
      .map((s) => s.type)
      .join(", ")}`,
});
/** createFactor's input: each factor type's settings under its own key (`push`, `totp`). */
const createFactorInput = () =>
  z.object({
    serviceSid: z.string(),
    identity,
    friendlyName: z.string().trim().min(1).max(64),
    factorType,
    ...Object.fromEntries(factorTypes().flatMap((s) => (s.settings ? [[s.settings.key, s.settings.schema.nullish()]] : []))),
    metadata: z.record(z.string(), z.unknown()).nullish(),
  });

/** updateFactor's input: a new name, and the settings each factor type lets change, under its own key. */
const updateFactorInput = () =>
  z.object({
    friendlyName: z.string().trim().min(1).max(64).nullish(),
    ...Object.fromEntries(factorTypes().flatMap((s) => (s.settings?.update ? [[s.settings.key, s.settings.update.nullish()]] : []))),
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
  factorType: factorType.nullish(),
  details: z
    .object({
      message: z.string().trim().min(1).max(1024),
      fields: z
        .array(z.object({ label: z.string().trim().min(1).max(128), value: z.string().max(1024) }))
        .max(20)
        .nullish(),
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

/** A factor and the settings a client may see: TOTP's time step, length, skew and algorithm; push's platform. Never a seed or a key. */
export interface FactorView extends Factor {
  config: { totp?: { timeStep: number; codeLength: number; skew: number; algorithm: string }; push?: { notificationPlatform: string; notificationToken: string | null } } | null;
}

function factorView(record: FactorRecord): FactorView {
  const c = record.config ?? {};
  const config: FactorView["config"] =
    record.factorType === "TOTP"
      ? { totp: { timeStep: Number(c.timeStep), codeLength: Number(c.codeLength), skew: Number(c.skew), algorithm: String(c.algorithm) } }
      : record.factorType === "PUSH"
        ? { push: { notificationPlatform: String(c.notificationPlatform ?? "NONE"), notificationToken: (c.notificationToken as string | null) ?? null } }
        : null;
  return { ...publicFactor(record), config };
}

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
  /** What the factor types' strategies (./types) work with. */
  private readonly ctx: FactorContext;

  constructor(private readonly deps: FactorFlowDeps) {
    this.attempts = new AnswerAttempts(deps);
    this.ctx = { keys: deps.keys, log: deps.log, deviceKeys: this.deviceKeys, passkeys: deps.passkeys, webPushEndpointRefusal: deps.webPushEndpointRefusal };
  }

  // ── entities (Twilio's Entity resource: an identity that has, or may have, factors) ─────────────

  /** The identity's entity, created unless it exists (`created` tells which). */
  async createEntity(serviceSid: string, rawIdentity: string): Promise<{ entity: EntityRecord; created: boolean }> {
    const name = parseInput(z.object({ identity }), { identity: rawIdentity }).identity;
    const service = await this.deps.services.require(serviceSid);
    const existing = await this.deps.store.getEntity(service.sid, name);
    if (existing) return { entity: existing, created: false };
    await this.deps.store.ensureEntity({ sid: newSid("YE"), serviceSid: service.sid, identity: name, userHandle: randomBytes(32).toString("base64url") }, this.deps.clock.now());
    const entity = await this.deps.store.getEntity(service.sid, name);
    if (!entity) throw notFound("Entity");
    return { entity, created: true };
  }

  async requireEntity(serviceSid: string, name: string): Promise<EntityRecord> {
    const entity = await this.deps.store.getEntity(serviceSid, name);
    if (!entity) throw notFound("Entity");
    return entity;
  }

  listEntities(serviceSid: string, page: PageRequest): Promise<Page<EntityRecord>> {
    return this.deps.store.listEntities(serviceSid, page);
  }

  /** Deletes the entity and every factor of it; their pending challenges can no longer be approved. */
  async deleteEntity(serviceSid: string, name: string): Promise<void> {
    if (!(await this.deps.store.deleteEntity(serviceSid, name, this.deps.clock.now()))) throw notFound("Entity");
  }

  /** An identity's factors with their public settings (TOTP step and length, push platform), oldest first. */
  async listEntityFactors(serviceSid: string, name: string, page: PageRequest): Promise<Page<FactorView>> {
    const found = await this.deps.store.listEntityFactors(serviceSid, name, page);
    return { ...found, edges: found.edges.map((e) => ({ cursor: e.cursor, node: factorView(e.node) })) };
  }

  /** A factor with its public settings, when the caller may touch it. */
  async describeFactor(sid: string, scope: Scope): Promise<FactorView> {
    return factorView(await this.requireFactor(sid, scope));
  }

  /** An identity's challenges (PENDING past its expiry reads EXPIRED). */
  async listEntityChallenges(filter: EntityChallengeFilter, page: PageRequest): Promise<Page<Challenge>> {
    const found = await this.deps.store.listEntityChallenges(filter, page);
    const edges = found.edges.map((e) => ({ cursor: e.cursor, node: this.current(e.node) }));
    return { ...found, edges: filter.status === "PENDING" ? edges.filter((e) => e.node.status === "PENDING") : edges };
  }

  // ── factors ─────────────────────────────────────────────────────────────────────────────────────

  async createFactor(raw: unknown): Promise<{ factor: Factor; totp: { secret: string; uri: string; qrCodeSvg: string } | null; passkeyCreationOptions: unknown }> {
    const input = parseInput(createFactorInput(), raw) as EnrolInput;
    const strategy = strategyOf(input.factorType);
    if (strategy.ceremonies) return { ...(await strategy.ceremonies(this.ctx).createFactor(raw)), totp: null };
    const service = await this.deps.services.require(input.serviceSid);
    const now = this.deps.clock.now();
    const sid = newSid("YF");
    const enrolment = strategy.enrol?.(this.ctx, input, service) ?? { config: {}, publicKey: null, secret: null };
    const { config, publicKey, secret } = enrolment;
    const entity = await this.deps.store.ensureEntity({ sid: newSid("YE"), serviceSid: service.sid, identity: input.identity, userHandle: randomBytes(32).toString("base64url") }, now);
    const factor: Factor = {
      sid,
      serviceSid: service.sid,
      entitySid: entity.sid,
      identity: input.identity,
      factorType: input.factorType,
      status: "UNVERIFIED",
      friendlyName: input.friendlyName,
      dateCreated: now,
      dateUpdated: now,
    };
    const created = await this.deps.store.createFactor({
      ...factor,
      pendingChallenge: null,
      metadata: input.metadata ?? null,
      publicKey,
      config,
      // The seed is sealed to its factor: a sealed value moved to another row does not open.
      secretSealed: secret ? seal(this.deps.keys, secret, sid) : null,
    });
    if (!created) throw entityDeleted();
    const extras = (await strategy.enrolled?.(this.ctx, enrolment, input, service)) ?? {};
    return { factor, totp: null, passkeyCreationOptions: null, ...extras };
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
    const key = factor && isFactorType(factor.factorType) ? (strategyOf(factor.factorType).deviceKey?.(this.ctx, factor) ?? null) : null;
    return factor && key ? { serviceSid: factor.serviceSid, key } : null;
  }

  /** TOTP: the first correct code; PUSH: a JWS `{ sub: factorSid }` by the device key; PASSKEY: the registration. */
  async verifyFactor(sid: string, scope: Scope, raw: unknown): Promise<Factor> {
    const input = parseInput(answerInput, raw);
    const factor = await this.requireFactor(sid, scope);
    const strategy = strategyOf(factor.factorType);
    if (strategy.ceremonies) return strategy.ceremonies(this.ctx).verifyFactor(sid, scope.serviceSid, input, scope);
    if (factor.status === "VERIFIED") return publicFactor(factor);
    strategy.requireAnswer?.(input, "verify");
    const claim = await this.attempts.claimVerification(factor);
    if ("verified" in claim) return publicFactor(claim.verified);
    const claimed = claim.claimed;
    const now = this.deps.clock.now();
    const proof = (await strategy.verify?.(this.ctx, claimed, input, now)) ?? { ok: true };
    if (!proof.ok) return this.attempts.verificationFailed(claimed, proof.message, scope);
    const counter = proof.counter;
    const verified = await this.deps.store.verifyFactor(sid, { counter }, now);
    if (!verified) return publicFactor((await this.deps.store.getFactor(sid)) as FactorRecord);
    return verified.factor;
  }

  /**
   * Renames a factor and/or changes the settings its type lets change (push: how its device is notified;
   * TOTP: its parameters while UNVERIFIED, its skew at any time; passkeys: the name only). Settings of
   * another type are refused. Writes `factor.updated` with what changed; an update that changes nothing
   * writes nothing (a device app sends its unchanged token at every start).
   */
  async updateFactor(sid: string, raw: unknown, scope: Scope): Promise<Factor> {
    const input = parseInput(updateFactorInput(), raw) as { friendlyName?: string | null } & Record<string, unknown>;
    const factor = await this.requireFactor(sid, scope);
    const own = strategyOf(factor.factorType);
    for (const other of factorTypes()) {
      const key = other.settings?.update ? other.settings.key : null;
      if (key && other !== own && input[key] != null) throw invalidParameter(key, `Invalid parameter \`${key}\`: only for ${other.type} factors.`);
    }
    const settings = own.settings?.update ? (input[own.settings.key] as Record<string, unknown> | null | undefined) : null;
    const friendlyName = input.friendlyName ?? undefined;
    if (friendlyName === undefined && !settings) throw invalidParameter("friendlyName", "Invalid parameter: give the new friendlyName or the settings to change.");
    const update = settings && own.update ? own.update(this.ctx, factor, settings) : null;
    const renamed = friendlyName !== undefined && friendlyName !== factor.friendlyName;
    const changed = [...(renamed ? ["friendlyName"] : []), ...(update?.changed ?? [])];
    if (changed.length === 0) return publicFactor(factor);
    const updated = await this.deps.store.updateFactor(
      sid,
      {
        friendlyName: renamed ? friendlyName : undefined,
        config: update && update.changed.length > 0 ? update.config : undefined,
        whileStatus: update?.whileUnverified ? "UNVERIFIED" : undefined,
        changed,
      },
      this.deps.clock.now(),
    );
    if (updated) return updated.factor;
    // Deleted meanwhile, or verified meanwhile (its TOTP parameters are fixed from then on).
    const current = await this.deps.store.getFactor(sid);
    if (!current) throw notFound("Factor");
    return this.updateFactor(sid, raw, scope);
  }

  async deleteFactor(sid: string, scope: Scope): Promise<Factor> {
    await this.requireFactor(sid, scope);
    const deleted = await this.deps.store.deleteFactor(sid, this.deps.clock.now());
    if (!deleted) throw notFound("Factor");
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
    } else if (input.factorType && strategyOf(input.factorType).needsIdentity) {
      if (!input.identity) throw invalidParameter("identity", `Invalid parameter \`identity\`: a ${input.factorType} challenge needs the identity (or a factorSid).`);
      factor = await this.deps.store.newestVerifiedFactor(service.sid, input.identity, input.factorType);
      if (!factor) throw new VerifyError("FACTOR_NOT_VERIFIED", `This identity has no verified ${input.factorType} factor.`);
    }
    // Without a factor (no factorSid, no factorType of an identity's factor): a username-less passkey sign-in.
    const strategy = strategyOf(factor?.factorType ?? input.factorType ?? "PASSKEY");
    if (!factor || strategy.ceremonies) {
      if (input.silent || input.fallback) throw invalidParameter(input.silent ? "silent" : "fallback", "Invalid parameter: silent approval is for PUSH factors.");
      const ceremonies = strategy.ceremonies ?? strategyOf("PASSKEY").ceremonies;
      if (!ceremonies) throw invalidParameter("factorType", "Invalid parameter `factorType`: this factor type needs a factor.");
      return ceremonies(this.ctx).createChallenge(raw);
    }
    if (factor.status !== "VERIFIED") throw new VerifyError("FACTOR_NOT_VERIFIED", "The factor is not verified yet.");
    const { jobs: kinds } = strategy.challenge?.(this.ctx, factor, input) ?? { jobs: [] };
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
    const jobs: { kind: OutboxJob["kind"]; runAt: number }[] = kinds.map((kind) => ({ kind, runAt: now }));
    if (fallback) jobs.push({ kind: "challenge_fallback", runAt: now + fallback.afterSeconds * 1000 });
    await this.deps.store.createChallenge(challenge, { fallback, jobs });
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

  /**
   * Sends a pending push challenge's notice again (Twilio's Notifications resource). Refused for another
   * type of factor, or a device enrolled without a notification platform (it lists its challenges itself).
   */
  async notifyAgain(sid: string, scope: Scope): Promise<Challenge> {
    const record = isSid(sid, "YC") ? await this.deps.store.getChallenge(sid) : null;
    if (!record || (scope.serviceSid && record.serviceSid !== scope.serviceSid)) throw notFound("Challenge");
    const factor = record.factorSid ? await this.deps.store.getFactor(record.factorSid) : null;
    if (record.factorType !== "PUSH" || !factor) throw invalidParameter("challenge", "Invalid parameter `challenge`: only push challenges are notified.");
    if (pushConfig(factor).notificationPlatform === "NONE")
      throw new VerifyError("INVALID_PARAMETER", "This factor was enrolled without a notification platform: its device lists its challenges itself.", { field: "challenge", twilioCode: 60307 });
    const now = this.deps.clock.now();
    assertAnswerable(record, now);
    await this.deps.store.queueChallengeNotice(record.sid, now);
    return this.current(record);
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
    if (
      !record ||
      (scope.serviceSid && record.serviceSid !== scope.serviceSid) ||
      (scope.factorSid && record.factorSid !== scope.factorSid) ||
      (scope.challengeSid && record.sid !== scope.challengeSid)
    ) {
      throw notFound("Challenge");
    }
    const strategy = strategyOf(record.factorType);
    if (strategy.ceremonies) return strategy.ceremonies(this.ctx).updateChallenge(sid, scope.serviceSid, input, scope);
    const now = this.deps.clock.now();
    assertAnswerable(record, now);
    const factor = record.factorSid ? await this.deps.store.getFactor(record.factorSid) : null;
    if (!factor) throw new VerifyError("CHALLENGE_VERIFICATION_FAILED", "The factor of this challenge was deleted.");
    strategy.requireAnswer?.(input, "answer");
    const claimed = await this.attempts.claimAnswer(record);
    const answer = (await strategy.answer?.(this.ctx, claimed, factor, input, now)) ?? { ok: false, message: "The answer was refused: this factor type takes no answers." };
    if (!answer.ok) return this.attempts.answerFailed(claimed, answer.message, scope);
    return this.settle(claimed, factor, { status: answer.status, totpStep: answer.totpStep }, scope);
  }

  /** A right answer (a push device's denial is one too): the challenge's final state, and its claimed attempt given back. */
  private async settle(claimed: ChallengeRecord, factor: FactorRecord, answer: { status: "APPROVED" | "DENIED"; totpStep?: number }, requester: Requester): Promise<Challenge> {
    const settled = await this.deps.store.respondChallenge({
      sid: claimed.sid,
      status: answer.status,
      factorSid: factor.sid,
      identity: factor.identity,
      counter: null,
      totpStep: answer.totpStep,
      releaseClaim: true,
      now: this.deps.clock.now(),
    });
    if (settled.ok) return settled.challenge;
    if (settled.reason === "REPLAY") return this.attempts.answerFailed(claimed, "The answer was refused: this code was already used; wait for the next one.", requester, "replay");
    if (settled.reason === "EXPIRED") throw new VerifyError("CHALLENGE_EXPIRED", "This challenge has expired; create a new one.");
    throw new VerifyError("CHALLENGE_ALREADY_RESPONDED", "This challenge was already answered.");
  }

  // ── silent approval's fallback (outbox job) ─────────────────────────────────────────────────────

  /** A silent challenge nobody answered in time: start the OTP verification and link it, once. */
  async runFallback(challengeSid: string): Promise<void> {
    const record = await this.deps.store.getChallenge(challengeSid);
    if (!record?.fallback || record.status !== "PENDING" || record.fallbackVerificationSid || record.expiresAt <= this.deps.clock.now()) return;
    const verification = await this.deps.startVerification({ serviceSid: record.serviceSid, to: record.fallback.to, channel: record.fallback.channel });
    await this.deps.store.linkChallengeFallback(challengeSid, verification.sid, this.deps.clock.now());
  }

  /** The fallback verification was approved: so is its challenge. */
  async fallbackApproved(verificationSid: string): Promise<void> {
    const record = await this.deps.store.findChallengeByFallback(verificationSid);
    if (record?.status !== "PENDING" || !record.factorSid || !record.identity) return;
    await this.deps.store.respondChallenge({ sid: record.sid, status: "APPROVED", factorSid: record.factorSid, identity: record.identity, counter: null, now: this.deps.clock.now() });
  }
}
