import type { RenderedMessage } from "../channels/channel.js";
import type { DeliveryStatus } from "../domain/types.js";

export interface OutgoingMessage extends RenderedMessage {
  /** Idempotency key: a retry of ours carries the same attempt sid. */
  attemptSid: string;
  verificationSid: string;
  /** Only the dev outbox keeps it; real transports have it inside `body` and nowhere else. */
  code: string;
}

export interface SendReceipt {
  status: Extract<DeliveryStatus, "SENT" | "DELIVERED">;
  providerMessageId: string | null;
}

/** A provider is a transport: it knows how bytes reach an address, not what they say. */
export interface Provider {
  readonly name: string;
  send(message: OutgoingMessage): Promise<SendReceipt>;
}
