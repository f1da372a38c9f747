import type { RenderedMessage } from "../channels/channel.js";
import type { DeliveryStatus } from "../domain/types.js";

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
  send(message: OutgoingMessage): Promise<SendReceipt>;
  close?(): Promise<void>;
}
