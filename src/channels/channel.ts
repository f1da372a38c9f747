import type { AttemptChannel } from "../domain/types.js";
import type { Wording } from "../i18n/catalogue.js";

/** What a channel needs to compose its message; the code is in clear only in memory, on its way out. */
export interface MessageInput {
  to: string;
  code: string;
  friendlyName: string;
  /** The resolved locale (a key of the catalogue) and its wording. */
  locale: string;
  wording: Wording;
  amount: string | null;
  payee: string | null;
  doNotShareWarning: boolean;
  appHash: string | null;
  webOtpDomain: string | null;
}

export interface RenderedMessage {
  to: string;
  channel: AttemptChannel;
  body: string;
  subject?: string;
  html?: string;
  locale: string;
}

/** A channel words the message that proves possession of an address. */
export interface Channel {
  readonly name: AttemptChannel;
  readonly address: "phone" | "email";
  render(input: MessageInput): RenderedMessage;
}
