import { randomBytes } from "node:crypto";
import {
  type AuthenticationResponseJSON,
  type AuthenticatorTransport,
  type RegistrationResponseJSON,
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from "@simplewebauthn/server";
import { z } from "zod";
import type { FactorRecord, FactorStore } from "../ports/index.js";
import type { Clock } from "../clock.js";
import { VerifyError, entityDeleted, invalidParameter, notFound } from "../errors.js";
import { isSid, newSid } from "../ids.js";
import type { Challenge, Factor, PasskeySettings, Service } from "../types.js";
import { parseInput } from "../validation.js";
import { AnswerAttempts, type Requester, type SecurityLog } from "./attempts.js";
import { assertAnswerable, newChallenge } from "./challenge.js";
import { publicFactor } from "./projections.js";

export interface RelyingPartyDefaults {
  /** WEBAUTHN_RP_ID, else PUBLIC_URL's host, else localhost. */
  rpId: () => string;
  /** WEBAUTHN_ORIGINS, else PUBLIC_URL's origin, else this gateway's own address (as localhost). */
  origins: () => string[];
}

export interface PasskeyFlowDeps {
  store: FactorStore;
  clock: Clock;
  log: SecurityLog;
  services: { require(sid: string): Promise<Service> };
  relyingParty: RelyingPartyDefaults;
}

const preference = z.enum(["REQUIRED", "PREFERRED", "DISCOURAGED"]);

const createFactorInput = z.object({
  serviceSid: z.string(),
  identity: z.string().trim().min(1).max(256),
  friendlyName: z.string().trim().min(1).max(64),
  factorType: z.string(),
  passkey: z
    .object({
      authenticatorAttachment: z.enum(["PLATFORM", "CROSS_PLATFORM", "ANY"]).nullish(),
      residentKey: preference.nullish(),
      userVerification: preference.nullish(),
    })
    .nullish(),
  metadata: z.record(z.string(), z.unknown()).nullish(),
});

const createChallengeInput = z.object({
  serviceSid: z.string(),
  identity: z.string().trim().min(1).max(256).nullish(),
  factorSid: z.string().nullish(),
  factorType: z.string().nullish(),
  details: z
    .object({
      message: z.string().trim().min(1).max(1024),
      fields: z
        .array(z.object({ label: z.string().min(1).max(128), value: z.string().max(1024) }))
        .max(20)
        .nullish(),
    })
    .nullish(),
  hiddenDetails: z.record(z.string(), z.unknown()).nullish(),
  expiresInSeconds: z.number().int().min(1).max(3600).nullish(),
});

/** The challenge a browser's response answers (clientDataJSON.challenge); bad input when it has none. */
function ceremonyChallenge(response: unknown, type: "webauthn.create" | "webauthn.get"): string {
  const refuse = () => invalidParameter("passkeyResponse", "Invalid parameter `passkeyResponse`: the response from the browser (with its clientDataJSON) is required.");
  const clientData = (response as { response?: { clientDataJSON?: unknown } } | null)?.response?.clientDataJSON;
  if (typeof clientData !== "string" || clientData.length > 16_384) throw refuse();
  try {
    const parsed = JSON.parse(Buffer.from(clientData, "base64url").toString("utf8")) as { type?: unknown; challenge?: unknown };
    if (parsed.type !== type || typeof parsed.challenge !== "string" || parsed.challenge.length === 0) throw refuse();
    return parsed.challenge;
  } catch {
    throw refuse();
  }
}

const lower = (v: string) => v.toLowerCase().replace("_", "-");

/**
 * Passkeys, Twilio's way: create factor → verify factor (the registration) → create challenge →
 * update challenge (the assertion). Built on @simplewebauthn/server; the relying party is per service.
 */
export class PasskeyFlow {
  private readonly attempts: AnswerAttempts;

  constructor(private readonly deps: PasskeyFlowDeps) {
    this.attempts = new AnswerAttempts(deps);
  }

  relyingParty(service: Service): { rpId: string; rpName: string; origins: string[]; settings: PasskeySettings } {
    const settings = service.passkeys;
    return {
      rpId: settings.rpId ?? this.deps.relyingParty.rpId(),
      rpName: settings.rpName ?? service.friendlyName,
      origins: settings.origins.length > 0 ? settings.origins : this.deps.relyingParty.origins(),
      settings,
    };
  }

  async createFactor(raw: unknown): Promise<{ factor: Factor; passkeyCreationOptions: unknown }> {
    const input = parseInput(createFactorInput, raw);
    const service = await this.deps.services.require(input.serviceSid);
    const rp = this.relyingParty(service);
    const now = this.deps.clock.now();
    const entity = await this.deps.store.ensureEntity({ sid: newSid("YE"), serviceSid: service.sid, identity: input.identity, userHandle: randomBytes(32).toString("base64url") }, now);
    const existing = await this.deps.store.listPasskeys(service.sid, input.identity);
    const attachment = input.passkey?.authenticatorAttachment ?? rp.settings.authenticatorAttachment;
    const options = await generateRegistrationOptions({
      rpName: rp.rpName,
      rpID: rp.rpId,
      userName: input.identity,
      userDisplayName: input.friendlyName,
      userID: Buffer.from(entity.userHandle, "base64url"),
      attestationType: "none",
      // One authenticator is never registered twice for the same user.
      excludeCredentials: existing.flatMap((f) => (f.credential ? [{ id: f.credential.credentialId, transports: f.credential.transports as AuthenticatorTransport[] }] : [])),
      authenticatorSelection: {
        residentKey: lower(input.passkey?.residentKey ?? rp.settings.residentKey) as "required",
        userVerification: lower(input.passkey?.userVerification ?? rp.settings.userVerification) as "required",
        ...(attachment === "ANY" ? {} : { authenticatorAttachment: lower(attachment) as "platform" }),
      },
    });
    const factor: Factor = {
      sid: newSid("YF"),
      serviceSid: service.sid,
      entitySid: entity.sid,
      identity: input.identity,
      factorType: "PASSKEY",
      status: "UNVERIFIED",
      friendlyName: input.friendlyName,
      dateCreated: now,
      dateUpdated: now,
    };
    const created = await this.deps.store.createFactor({ ...factor, pendingChallenge: options.challenge, metadata: input.metadata ?? null, publicKey: null, config: null, secretSealed: null });
    if (!created) throw entityDeleted();
    return { factor, passkeyCreationOptions: options };
  }

  /** A factor the caller may touch: unknown and out of scope look the same. */
  async requireFactor(sid: string, serviceScope: string | null): Promise<FactorRecord> {
    const factor = isSid(sid, "YF") ? await this.deps.store.getFactor(sid) : null;
    if (!factor || (serviceScope && factor.serviceSid !== serviceScope)) throw notFound("Factor");
    return factor;
  }

  /** The registration: the authenticator's response to the creation options proves the new key. */
  async verifyFactor(sid: string, serviceScope: string | null, passkeyResponse: unknown, requester: Requester): Promise<Factor> {
    const found = await this.requireFactor(sid, serviceScope);
    if (found.status === "VERIFIED") return publicFactor(found);
    if (!passkeyResponse || typeof passkeyResponse !== "object")
      throw invalidParameter("passkeyResponse", "Invalid parameter `passkeyResponse`: the registration response from the browser is required.");
    const rp = this.relyingParty(await this.deps.services.require(found.serviceSid));
    const claim = await this.attempts.claimVerification(found);
    if ("verified" in claim) return publicFactor(claim.verified);
    const factor = claim.claimed;
    const fail = (reason: string) => this.attempts.verificationFailed(factor, `The passkey registration was refused: ${reason}`, requester);
    let verification: Awaited<ReturnType<typeof verifyRegistrationResponse>>;
    try {
      verification = await verifyRegistrationResponse({
        response: passkeyResponse as RegistrationResponseJSON,
        expectedChallenge: factor.pendingChallenge ?? "",
        expectedOrigin: rp.origins,
        expectedRPID: rp.rpId,
        requireUserVerification: rp.settings.userVerification === "REQUIRED",
      });
    } catch (error) {
      return fail(error instanceof Error ? error.message : "invalid response");
    }
    if (!verification.verified || !verification.registrationInfo) return fail("the response did not verify");
    const { credential } = verification.registrationInfo;
    if (await this.deps.store.findPasskey(factor.serviceSid, credential.id)) return fail("this authenticator is already registered");
    const verified = await this.deps.store.verifyFactor(
      sid,
      { credential: { credentialId: credential.id, publicKey: Buffer.from(credential.publicKey).toString("base64url"), counter: credential.counter, transports: credential.transports ?? [] } },
      this.deps.clock.now(),
    );
    if (!verified) return publicFactor((await this.deps.store.getFactor(sid)) as FactorRecord);
    return verified.factor;
  }

  /** A sign-in: for one identity's passkeys, one factor, or (no identity) whichever discoverable passkey answers. */
  async createChallenge(raw: unknown): Promise<{ challenge: Challenge; passkeyRequestOptions: unknown }> {
    const input = parseInput(createChallengeInput, raw);
    const service = await this.deps.services.require(input.serviceSid);
    const rp = this.relyingParty(service);
    let allowed: FactorRecord[] = [];
    if (input.factorSid) {
      const factor = await this.requireFactor(input.factorSid, service.sid);
      if (factor.status !== "VERIFIED") throw new VerifyError("FACTOR_NOT_VERIFIED", "The factor is not verified yet.");
      if (input.identity && factor.identity !== input.identity) throw notFound("Factor");
      allowed = [factor];
    } else if (input.identity) {
      allowed = await this.deps.store.listPasskeys(service.sid, input.identity);
      if (allowed.length === 0) throw new VerifyError("FACTOR_NOT_VERIFIED", "This identity has no verified passkey.");
    }
    const now = this.deps.clock.now();
    const expiresInSeconds = input.expiresInSeconds ?? 300;
    const options = await generateAuthenticationOptions({
      rpID: rp.rpId,
      allowCredentials: allowed.flatMap((f) => (f.credential ? [{ id: f.credential.credentialId, transports: f.credential.transports as AuthenticatorTransport[] }] : [])),
      userVerification: lower(rp.settings.userVerification) as "required",
      timeout: expiresInSeconds * 1000,
    });
    const challenge = newChallenge({
      serviceSid: service.sid,
      factorSid: allowed.length === 1 ? allowed[0].sid : null,
      identity: input.identity ?? (allowed.length === 1 ? allowed[0].identity : null),
      factorType: "PASSKEY",
      details: input.details,
      hiddenDetails: input.hiddenDetails,
      now,
      expiresInSeconds,
    });
    await this.deps.store.createChallenge(challenge, { webauthnChallenge: options.challenge });
    return { challenge, passkeyRequestOptions: options };
  }

  /** Twilio's VerifyFactor: the registration response alone; its ceremony challenge names the factor. */
  async verifyFactorByResponse(serviceSid: string, passkeyResponse: unknown, requester: Requester & { factorSid?: string }): Promise<Factor> {
    const factor = await this.deps.store.findFactorByPendingChallenge(serviceSid, ceremonyChallenge(passkeyResponse, "webauthn.create"));
    if (factor?.factorType !== "PASSKEY" || (requester.factorSid && requester.factorSid !== factor.sid)) throw notFound("Factor");
    return this.verifyFactor(factor.sid, serviceSid, passkeyResponse, requester);
  }

  /** Twilio's ApproveChallenge: the authentication response alone; its ceremony challenge names the challenge. */
  async approveByResponse(serviceSid: string, passkeyResponse: unknown, requester: Requester & { factorSid?: string; challengeSid?: string }): Promise<Challenge> {
    const challenge = await this.deps.store.findChallengeByWebauthn(serviceSid, ceremonyChallenge(passkeyResponse, "webauthn.get"));
    // A client token answers its own challenge only; a device token, those asked of its factor.
    if (!challenge || (requester.challengeSid && requester.challengeSid !== challenge.sid) || (requester.factorSid && requester.factorSid !== challenge.factorSid)) throw notFound("Challenge");
    return this.updateChallenge(challenge.sid, serviceSid, passkeyResponse, requester);
  }

  /** The assertion: single use, signature and counter checked against the stored credential. */
  async updateChallenge(sid: string, serviceScope: string | null, passkeyResponse: unknown, requester: Requester): Promise<Challenge> {
    const found = isSid(sid, "YC") ? await this.deps.store.getChallenge(sid) : null;
    if (!found || (serviceScope && found.serviceSid !== serviceScope)) throw notFound("Challenge");
    const now = this.deps.clock.now();
    assertAnswerable(found, now);
    const response = passkeyResponse as AuthenticationResponseJSON | null;
    // Its shape is checked before an attempt is claimed: a malformed body is bad input, not a failed answer.
    if (!response || typeof response !== "object" || typeof response.id !== "string" || !response.response || typeof response.response !== "object") {
      throw invalidParameter("passkeyResponse", "Invalid parameter `passkeyResponse`: the authentication response from the browser is required.");
    }
    const record = await this.attempts.claimAnswer(found);
    const fail = (reason: string) => this.attempts.answerFailed(record, `The passkey sign-in was refused: ${reason}`, requester);
    const factor = await this.deps.store.findPasskey(record.serviceSid, response.id);
    if (!factor?.credential) return fail("unknown passkey");
    if (record.factorSid && factor.sid !== record.factorSid) return fail("this passkey was not asked for");
    if (record.identity && factor.identity !== record.identity) return fail("this passkey belongs to another user");
    // Username-less: the authenticator's user handle names the entity.
    if (!record.identity && response.response.userHandle && response.response.userHandle !== factor.userHandle) return fail("user handle mismatch");
    const rp = this.relyingParty(await this.deps.services.require(record.serviceSid));
    let newCounter: number;
    try {
      const verification = await verifyAuthenticationResponse({
        response,
        expectedChallenge: record.webauthnChallenge ?? "",
        expectedOrigin: rp.origins,
        expectedRPID: rp.rpId,
        credential: {
          id: factor.credential.credentialId,
          publicKey: new Uint8Array(Buffer.from(factor.credential.publicKey, "base64url")),
          counter: factor.credential.counter,
          transports: factor.credential.transports as AuthenticatorTransport[],
        },
        requireUserVerification: rp.settings.userVerification === "REQUIRED",
      });
      if (!verification.verified) return fail("the signature did not verify");
      newCounter = verification.authenticationInfo.newCounter;
    } catch (error) {
      return fail(error instanceof Error ? error.message : "invalid response");
    }
    const counter = newCounter > 0 || factor.credential.counter > 0 ? { from: factor.credential.counter, to: newCounter } : null;
    const settled = await this.deps.store.respondChallenge({ sid, status: "APPROVED", factorSid: factor.sid, identity: factor.identity, counter, releaseClaim: true, now });
    if (!settled.ok) {
      if (settled.reason === "EXPIRED") throw new VerifyError("CHALLENGE_EXPIRED", "This challenge has expired; create a new one.");
      if (settled.reason === "CLONED") return fail("the signature counter did not move forward (a cloned authenticator?)");
      throw new VerifyError("CHALLENGE_ALREADY_RESPONDED", "This challenge was already answered.");
    }
    return settled.challenge;
  }
}
