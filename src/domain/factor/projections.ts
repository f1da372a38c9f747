import type { Challenge, Factor } from "../types.js";

/** What the store keeps of a factor beyond what clients see. */
interface FactorSecrets {
  credential: unknown;
  publicKey: unknown;
  counter: unknown;
  config: unknown;
  secretSealed: unknown;
  pendingChallenge: unknown;
  failedAttempts: unknown;
  userHandle: unknown;
}

/** What the store keeps of a challenge beyond what clients see. */
interface ChallengeSecrets {
  webauthnChallenge: unknown;
  failedAttempts: unknown;
  fallback: unknown;
}

/** What clients see of a factor: no credential, no challenge. */
export const publicFactor = ({
  credential: _c,
  publicKey: _k,
  counter: _n,
  config: _g,
  secretSealed: _s,
  pendingChallenge: _p,
  failedAttempts: _f,
  userHandle: _u,
  ...factor
}: Factor & FactorSecrets): Factor => factor;

/** What clients see of a challenge: no WebAuthn challenge, no failure count, no fallback address. */
export const publicChallenge = ({ webauthnChallenge: _w, failedAttempts: _f, fallback: _b, ...challenge }: Challenge & ChallengeSecrets): Challenge => challenge;

/** The client-visible fields of a factor being created (whatever else the caller's object holds). */
export const factorFields = ({ sid, serviceSid, entitySid, identity, factorType, status, friendlyName, dateCreated, dateUpdated }: Factor): Factor => ({
  sid,
  serviceSid,
  entitySid,
  identity,
  factorType,
  status,
  friendlyName,
  dateCreated,
  dateUpdated,
});
