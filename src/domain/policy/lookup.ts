/**
 * Carrier names come from a pluggable provider (a paid lookup API, an operator's own database…);
 * the gateway has none by default and answers `carrier: null`.
 */
export interface CarrierLookup {
  carrier(e164: string): Promise<string | null>;
}

export const noCarrierLookup: CarrierLookup = { carrier: async () => null };

/**
 * An HTTP lookup service: `GET <url>?phoneNumber=<E.164>` answering `{ "carrier": "…" }`. A slow or
 * failing service never holds a verification back: it answers null after `timeoutMs`.
 */
export function httpCarrierLookup(url: string, timeoutMs: number, onError: (error: unknown) => void): CarrierLookup {
  return {
    async carrier(e164) {
      try {
        const target = new URL(url);
        target.searchParams.set("phoneNumber", e164);
        const response = await fetch(target, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: "application/json" } });
        if (!response.ok) throw new Error(`lookup answered ${response.status}`);
        const body = (await response.json()) as { carrier?: unknown };
        return typeof body.carrier === "string" && body.carrier.length > 0 ? body.carrier.slice(0, 128) : null;
      } catch (error) {
        onError(error);
        return null;
      }
    },
  };
}
