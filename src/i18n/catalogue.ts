/**
 * Message catalogues. A locale resolves along its fallback chain (fr-CA → fr → en). Placeholders:
 * {name} (service or custom friendly name), {code}, {amount}, {payee}.
 */
export interface Catalogue {
  sms: string;
  smsPsd2: string;
  doNotShare: string;
  whatsapp: string;
  call: string;
  emailSubject: string;
  emailBody: string;
}

const catalogues: Record<string, Catalogue> = {
  en: {
    sms: "Your {name} verification code is: {code}",
    smsPsd2: "Your {name} verification code is: {code}. Amount: {amount}. Payee: {payee}",
    doNotShare: "Don't share this code with anyone; our employees will never ask for the code.",
    whatsapp: "*{code}* is your {name} verification code. For your security, do not share this code.",
    call: "Your {name} verification code is: {code}.",
    emailSubject: "Your {name} verification code",
    emailBody: "Your {name} verification code is: {code}\n\nIf you did not ask for this code, you can ignore this message.",
  },
};

export const fallbackChain = (locale: string): string[] => {
  const parts = locale.split("-");
  const chain = parts.map((_, i) => parts.slice(0, parts.length - i).join("-"));
  return [...chain, "en"];
};

export function catalogueFor(locale: string): { locale: string; catalogue: Catalogue } {
  for (const candidate of fallbackChain(locale)) {
    const found = catalogues[candidate] ?? catalogues[candidate.toLowerCase()];
    if (found) return { locale: candidate, catalogue: found };
  }
  return { locale: "en", catalogue: catalogues.en };
}

export const fill = (template: string, values: Record<string, string>): string =>
  template.replace(/\{(\w+)\}/g, (whole, key: string) => values[key] ?? whole);
