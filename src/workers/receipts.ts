import type { Logger } from "pino";
import type { Clock } from "../domain/clock.js";
import type { ProviderReceipt } from "../providers/provider.js";
import type { Store } from "../store/port.js";

/**
 * Applies delivery receipts to send attempts. A receipt can overtake the write of the message id it
 * refers to (the SMSC answers fast), so an unknown id is tried again a few times before it is dropped.
 */
export class ReceiptRecorder {
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly o: { store: Store; clock: Clock; logger: Logger; retries?: number; retryMs?: number }) {}

  record(receipt: ProviderReceipt): void {
    const work: Promise<void> = this.apply(receipt, this.o.retries ?? 10).finally(() => this.pending.delete(work));
    this.pending.add(work);
  }

  async idle(): Promise<void> {
    await Promise.all(this.pending);
  }

  private async apply(receipt: ProviderReceipt, triesLeft: number): Promise<void> {
    try {
      const event = await this.o.store.recordReceipt({ ...receipt, now: this.o.clock.now() });
      if (event) return;
      if (triesLeft > 0) {
        await new Promise((resolve) => setTimeout(resolve, this.o.retryMs ?? 200));
        return this.apply(receipt, triesLeft - 1);
      }
      this.o.logger.info({ providerMessageId: receipt.providerMessageId }, "receipt for an unknown or settled message ignored");
    } catch (error) {
      this.o.logger.error({ err: error }, "receipt could not be recorded");
    }
  }
}
