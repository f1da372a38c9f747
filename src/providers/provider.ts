import type { Logger } from "pino";
import type { ZodType } from "zod";
import type { RenderedMessage } from "../channels/channel.js";
import type { Clock } from "../domain/clock.js";
import type { AttemptChannel, DeliveryStatus } from "../domain/types.js";
import type { ServiceStore as Store } from "../domain/ports/index.js";

export interface OutgoingMessage extends RenderedMessage {
  /** Idempotency key: a retry of ours carries the same attempt sid. */
  attemptSid: string;
  verificationSid: string;
  /** Real transports carry it only inside the message (or a template parameter); the dev outbox keeps it. */
  code: string;
  /** For calls: where a TwiML-driven voice platform fetches the script, and its SSML rendering. */
  voice?: { answerUrl: string; ssmlUrl: string };
}

export interface SendReceipt {
  status: Extract<DeliveryStatus, "SENT" | "DELIVERED">;
  providerMessageId: string | null;
}

/** A provider's later word on a message (SMPP delivery receipt, HTTP status callback). */
export interface ProviderReceipt {
  providerMessageId: string;
  status: "DELIVERED" | "UNDELIVERED";
  errorCode: string | null;
}

export type ReceiptListener = (receipt: ProviderReceipt) => void;

/** A provider is a transport: it knows how bytes reach an address, not what they say. */
export interface Provider {
  readonly name: string;
  /**
   * Email: the domain of the address it sends from. A verification may choose another From address at
   * this domain only (none: the configured sender alone).
   */
  readonly senderDomain?: string;
  send(message: OutgoingMessage): Promise<SendReceipt>;
  close?(): Promise<void>;
}

/** What a transport is built with, besides its own options. */
export interface TransportDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  onReceipt: ReceiptListener;
  /** PROVIDER_TIMEOUT_MS. */
  timeoutMs: number;
  /** The dev outbox: a sandbox transport may deliver into it. */
  devOutbox: Provider;
}

/** The environment after parsing (each variable as its transport's schema made it). */
export type TransportEnv = Readonly<Record<string, unknown>>;

/**
 * What a provider folder declares (src/providers/<name>/index.ts): its name, the channels it may carry
 * (each with the variable that configures it there, named when production refuses the dev outbox), its
 * environment variables as a zod shape (merged into the configuration's schema, so every problem is
 * reported together, by name) and its constructor. For a channel, the first transport in the registry's
 * list configured for it carries it; a channel no transport carries delivers into the dev outbox.
 */
export interface TransportPlugin<O = unknown> {
  readonly name: string;
  readonly channels: Readonly<Record<AttemptChannel, string>>;
  readonly env: Readonly<Record<string, ZodType>>;
  /** Variables that only make sense together: the problems, each naming its variable. */
  problems?(env: TransportEnv): string[];
  /** Its options for one of its channels; null: not configured for it. */
  options(env: TransportEnv, channel: AttemptChannel): O | null;
  create(options: O, deps: TransportDeps): Provider;
}

/** A declaration, typed by its options (the registry holds them as TransportPlugin<unknown>). */
export const transportPlugin = <O>(plugin: TransportPlugin<O>): TransportPlugin<unknown> => plugin as TransportPlugin<unknown>;

/** A required-with check: `name` must be set when `when` is. */
export const requiredWith = (env: TransportEnv, when: unknown, name: string, because: string): string[] => (when && !env[name] ? [`${name}: required with ${because}`] : []);
