import { parsePhoneNumberFromString } from "libphonenumber-js/min";

/**
 * A recipient as the console shows it by default: an E.164 number keeps its first four digits and last
 * four (+1415•••1234), an email address its first letter and domain (a•••@example.com).
 */
export function maskRecipient(to: string): string {
  if (to.includes("@")) {
    const [local, domain] = to.split("@");
    return `${local?.slice(0, 1) ?? ""}•••@${domain ?? ""}`;
  }
  if (to.length <= 9) return `${to.slice(0, 3)}•••`;
  return `${to.slice(0, 5)}•••${to.slice(-4)}`;
}

/** The ISO 3166-1 alpha-2 country of an E.164 number, or null (email, unknown plan). */
export function countryOf(to: string | null | undefined): string | null {
  if (!to?.startsWith("+")) return null;
  return parsePhoneNumberFromString(to)?.country ?? null;
}
