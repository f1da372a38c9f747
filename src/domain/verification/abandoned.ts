import type { DeliveryStatus, VerificationStatus } from "../types.js";

/**
 * A send the gateway gave up on because its verification reached a final state first (a crash mid-send,
 * then the user typed a code that did arrive, or it expired): it is settled, never sent again, and its
 * errorCode says why. UNDELIVERED, not FAILED: no provider failed; whether an earlier try reached the
 * handset before the crash is unknown.
 */
export function abandonedSend(verificationStatus: VerificationStatus): { status: DeliveryStatus; errorCode: string } {
  return { status: "UNDELIVERED", errorCode: `abandoned: verification ${verificationStatus}` };
}
