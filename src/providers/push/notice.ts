/** What a device is told about a new challenge; it then reads the challenge itself with its device token. */
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
