import type { ChannelTraits } from "../domain/channels.js";
import type { AttemptChannel } from "../domain/types.js";
import type { Wording } from "../i18n/catalogue.js";
import type { TemplateChannel } from "../domain/template/templates.js";

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
  /** A call: digits to dial once the callee answers (an extension); `w` pauses half a second. */
  sendDigits?: string | null;
  /** An email: this start's From address and display name; null fields: the configured sender's. */
  sender?: MessageSender | null;
  /**
   * The service template's text for a channel, filled with `code` as that channel words it (a call reads
   * digits one by one); null when the verification has no template or it has no text for the channel.
   */
  template: ((channel: TemplateChannel, code: string) => { text: string; locale: string; showsTransaction: boolean } | null) | null;
}

export interface MessageSender {
  address: string | null;
  name: string | null;
}

export interface RenderedMessage {
  to: string;
  channel: AttemptChannel;
  body: string;
  subject?: string;
  html?: string;
  locale: string;
  /** An email's From as the start chose it (what it leaves out: the transport's configured sender). */
  from?: MessageSender;
}

/** A channel words the message that proves possession of an address. */
export interface Channel {
  readonly name: AttemptChannel;
  readonly address: "phone" | "email";
  render(input: MessageInput): RenderedMessage;
}

/** Does a number handle RCS? A provider adapter answers; the sandbox answers from a static list. */
export interface RcsCapability {
  isCapable(to: string): Promise<boolean>;
}

export interface RoutingOptions {
  rcs: RcsCapability | null;
  whatsappFallbackToSms: boolean;
}

/**
 * What a channel folder declares: its traits (registered into the domain's catalogue, from which every
 * list, enum and rule derives), how it words a message (none for SNA and AUTO, which no transport
 * carries) and, optionally, the transports one send attempt tries in order (default: itself alone).
 */
export interface ChannelPlugin extends ChannelTraits {
  render?(input: MessageInput): RenderedMessage;
  route?(to: string, options: RoutingOptions): Promise<AttemptChannel[] | null>;
}
