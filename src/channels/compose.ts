import { type Keyring, open } from "../domain/crypto.js";
import { parsePhone } from "../domain/verification/address.js";
import { resolveLocale } from "../i18n/catalogue.js";
import type { DeliveryContext } from "../domain/ports/index.js";
import type { MessageInput } from "./channel.js";

/** The code and app hash sealed with the verification (null once it reached a final state). */
export function openSecret(keys: Keyring, context: DeliveryContext): { code: string; appHash: string | null } | null {
  if (!context.codeSealed) return null;
  return JSON.parse(open(keys, context.codeSealed, context.verificationSid)) as { code: string; appHash: string | null };
}

/**
 * PSD2 dynamic linking: the payer must see what the code authorises, so every channel that carries a
 * PSD2 code words the amount and the payee (labels in the message's language); none without PSD2.
 */
export function transactionLines(input: Pick<MessageInput, "wording" | "amount" | "payee">): string[] {
  if (input.amount === null) return [];
  return [`${input.wording.amount}: ${input.amount}`, `${input.wording.payee}: ${input.payee ?? ""}`];
}

/** Everything a channel needs to word one message, locale resolved (explicit → country → service → en). */
export function messageInput(context: DeliveryContext, secret: { code: string; appHash: string | null }): MessageInput {
  const country = context.to.startsWith("+") ? parsePhone(context.to).country : null;
  const { locale, wording } = resolveLocale(context.locale, country, context.service.defaultLocale);
  return {
    to: context.to,
    code: secret.code,
    friendlyName: context.customFriendlyName ?? context.service.friendlyName,
    locale,
    wording,
    amount: context.amount,
    payee: context.payee,
    doNotShareWarning: context.service.doNotShareWarningEnabled,
    appHash: secret.appHash,
    webOtpDomain: context.service.webOtpDomain,
  };
}
