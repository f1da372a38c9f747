import type { AttemptChannel, DeliveryChannel } from "../domain/types.js";

/** What a channel needs to compose its message; the code is in clear only in memory, on its way out. */
export interface MessageInput {
  to: string;
  code: string;
  friendlyName: string;
  locale: string;
  amount: string | null;
  payee: string | null;
  doNotShareWarning: boolean;
}

export interface RenderedMessage {
  to: string;
  channel: AttemptChannel;
  body: string;
  subject?: string;
}

/** A channel proves possession of an address; it knows the address kind and how to word the message. */
export interface Channel {
  readonly name: DeliveryChannel;
  readonly address: "phone" | "email";
  render(input: MessageInput): RenderedMessage;
}
