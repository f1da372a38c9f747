import { type Keyring, open } from "../domain/crypto.js";
import { parsePhone } from "../domain/verification/address.js";
import { resolveLocale } from "../i18n/catalogue.js";
import type { DeliveryContext } from "../domain/ports/index.js";
import type { MessageInput } from "./channel.js";
import { renderTemplate, type TemplateChannel } from "../domain/template/templates.js";

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
    template: templateOf(context, locale),
    sendDigits: context.options.sendDigits ?? null,
    sender: context.options.emailFrom || context.options.emailFromName ? { address: context.options.emailFrom ?? null, name: context.options.emailFromName ?? null } : null,
  };
}

/** What a template's text needs of a message (a call's context carries no PSD2 transaction). */
export type TemplateInput = Pick<MessageInput, "wording" | "code"> & Partial<Pick<MessageInput, "template" | "amount" | "payee">>;

/** The verification's template, worded for a channel: its locale, else the message's locale, else en. */
function templateOf(context: DeliveryContext, locale: string): MessageInput["template"] {
  const applied = context.template;
  if (!applied) return null;
  const values = {
    friendly_name: context.customFriendlyName ?? context.service.friendlyName,
    ttl_minutes: String(Math.ceil(context.service.ttlSeconds / 60)),
    amount: context.amount ?? "",
    payee: context.payee ?? "",
  };
  return (channel, code) => renderTemplate(applied, channel, [context.locale, locale], { ...values, code });
}

/**
 * A template's text for a channel, with the PSD2 lines the text does not word itself (the payer must
 * see what the code authorises); null: the built-in words.
 */
export function templateText(input: TemplateInput, channel: TemplateChannel, code = input.code, separator = ". "): { text: string; locale: string } | null {
  const rendered = input.template?.(channel, code);
  if (!rendered) return null;
  const lines = rendered.showsTransaction ? [] : transactionLines({ wording: input.wording, amount: input.amount ?? null, payee: input.payee ?? null });
  return { text: [rendered.text, ...lines].join(separator), locale: rendered.locale };
}
