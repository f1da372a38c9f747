import type { FactorStrategy } from "./strategy.js";

/** A WebAuthn passkey: every step is a ceremony PasskeyFlow runs (@simplewebauthn/server). */
export const passkey: FactorStrategy = {
  type: "PASSKEY",
  description: "A WebAuthn passkey",
  ceremonies: (ctx) => ({
    createFactor: (raw) => ctx.passkeys.createFactor(raw),
    verifyFactor: (sid, serviceScope, input, requester) => ctx.passkeys.verifyFactor(sid, serviceScope, input.passkeyResponse, requester),
    createChallenge: (raw) => ctx.passkeys.createChallenge(raw),
    updateChallenge: (sid, serviceScope, input, requester) => ctx.passkeys.updateChallenge(sid, serviceScope, input.passkeyResponse, requester),
  }),
};
