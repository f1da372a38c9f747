/** What a push platform (Web Push, FCM, APNs) is handed for a challenge, and what it answers. */
export interface ChallengeNotice {
  type: "verigate.challenge";
  challengeSid: string;
  factorSid: string;
  serviceSid: string;
  message: string;
  silent: boolean;
  expiresAt: string;
}

export type NotifyResult = { sent: true } | { sent: false; retry: boolean; reason: string };
