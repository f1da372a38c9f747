import type { ZodType } from "zod";
import type { ChallengeRecord, FactorRecord, OutboxJob } from "../../ports/index.js";
import type { Keyring } from "../../crypto.js";
import type { Challenge, Factor, Service } from "../../types.js";
import type { Requester, SecurityLog } from "../attempts.js";
import type { PasskeyFlow } from "../passkeys.js";
import type { DeviceKeys } from "../push.js";

/** What a factor type's strategy may use: the flow's keys, log and caches. */
export interface FactorContext {
  keys: Keyring;
  log: SecurityLog;
  deviceKeys: DeviceKeys;
  passkeys: PasskeyFlow;
  /** Why a Web Push endpoint may not be enrolled (SSRF guard, allowed push services), or null. */
  webPushEndpointRefusal: (endpoint: string) => string | null;
}

/** createFactor's input, as the flow parsed it (each type's settings under its own key). */
export interface EnrolInput {
  serviceSid: string;
  identity: string;
  friendlyName: string;
  factorType: string;
  metadata?: Record<string, unknown> | null;
  [settings: string]: unknown;
}

/** verifyFactor's and updateChallenge's input. */
export interface AnswerInput {
  code?: string | null;
  authPayload?: string | null;
  passkeyResponse?: unknown;
}

/** createChallenge's input, as the flow parsed it. */
export interface ChallengeInput {
  details?: { message: string } | null;
  silent?: boolean | null;
  fallback?: unknown;
}

export type Judgement<T> = ({ ok: true } & T) | { ok: false; message: string };

/** What the type stores of a new factor; the flow seals the secret to the factor. */
export interface Enrolment {
  config: Record<string, unknown>;
  publicKey: string | null;
  secret: string | null;
}

/** A factor's settings as an update leaves them. */
export interface SettingsUpdate {
  config: Record<string, unknown>;
  /** The names of the settings whose value changed. */
  changed: string[];
  /** Written only if the factor is still UNVERIFIED (the change is refused once it is verified). */
  whileUnverified: boolean;
}

/**
 * A factor type (src/domain/factor/types/<type>.ts): how it enrols, proves a new factor (verify), is
 * challenged and answers. Adding one: a file and a line in ./index.ts. A type that runs its own
 * ceremonies end to end (passkeys: WebAuthn, in PasskeyFlow) sets `ceremonies` instead.
 */
export interface FactorStrategy {
  readonly type: string;
  /** The schema's description of the FactorType value. */
  readonly description: string;
  /** Its settings in createFactor's input, under its own key (`totp`, `push`); `update`: those updateFactor takes, under the same key. */
  readonly settings?: { key: string; schema: ZodType; update?: ZodType };
  /** A type that runs every step itself. */
  readonly ceremonies?: (ctx: FactorContext) => {
    createFactor(raw: unknown): Promise<{ factor: Factor; passkeyCreationOptions: unknown }>;
    verifyFactor(sid: string, serviceScope: string | null, input: AnswerInput, requester: Requester): Promise<Factor>;
    createChallenge(raw: unknown): Promise<{ challenge: Challenge; passkeyRequestOptions: unknown }>;
    updateChallenge(sid: string, serviceScope: string | null, input: AnswerInput, requester: Requester): Promise<Challenge>;
  };
  /** The Challenge fields an answer of this type signs (push: the challenge as the API returns it). */
  readonly signedFields?: readonly string[];
  /** A challenge of this type names its identity (else: a username-less one, which only ceremonies run). */
  readonly needsIdentity?: boolean;
  enrol?(ctx: FactorContext, input: EnrolInput, service: Service): Enrolment;
  /** What enrolment hands back besides the factor (TOTP: the seed, its URI and QR code). */
  enrolled?(ctx: FactorContext, enrolment: Enrolment, input: EnrolInput, service: Service): Promise<Record<string, unknown>>;
  /** updateFactor's settings: the factor's whole new config, and whether it may only be written while UNVERIFIED. Throws INVALID_PARAMETER. */
  update?(ctx: FactorContext, factor: FactorRecord, settings: Record<string, unknown>): SettingsUpdate;
  /** The answer a verification or a challenge needs; refused before an attempt is claimed. */
  requireAnswer?(input: AnswerInput, step: "verify" | "answer"): void;
  /** The proof of a new factor; `counter`: the TOTP step to remember (replay floor). */
  verify?(ctx: FactorContext, factor: FactorRecord, input: AnswerInput, now: number): Promise<Judgement<{ counter?: number }>>;
  /** A new challenge's checks (throwing INVALID_PARAMETER) and the outbox jobs it queues now. */
  challenge?(ctx: FactorContext, factor: FactorRecord, input: ChallengeInput): { jobs: OutboxJob["kind"][] };
  /** An answer to a challenge: its final status (a push device may deny), or refused. */
  answer?(ctx: FactorContext, challenge: ChallengeRecord, factor: FactorRecord, input: AnswerInput, now: number): Promise<Judgement<{ status: "APPROVED" | "DENIED"; totpStep?: number }>>;
  /** The key a device of this type signs its tokens with, if any. */
  deviceKey?(ctx: FactorContext, factor: FactorRecord): import("node:crypto").KeyObject | null;
}
