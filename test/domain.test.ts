import { describe, expect, it } from "vitest";
import { codeMatches, deriveKeyring, generateNumericCode, hashCode, open, seal } from "../src/domain/crypto.js";
import { VerifyError } from "../src/domain/errors.js";
import { friendlyName } from "../src/domain/service/settings.js";
import { parseEmail, parsePhone } from "../src/domain/verification/address.js";
import { fallbackChain, resolveLocale, supportedLocales } from "../src/i18n/catalogue.js";
import { issueClientToken, Authenticator } from "../src/server/auth.js";
import { ManualClock } from "../src/domain/clock.js";
import { decodeCursor, encodeCursor } from "../src/store/cursor.js";

const keys = deriveKeyring("a".repeat(43));

describe("codes", () => {
  it("are uniform digits of the asked length", () => {
    const counts = new Array(10).fill(0);
    for (let i = 0; i < 2000; i++) for (const d of generateNumericCode(10)) counts[Number(d)]++;
    expect(generateNumericCode(7)).toMatch(/^\d{7}$/);
    // 20,000 digits: each digit within ±20 % of 2,000.
    for (const c of counts) expect(Math.abs(c - 2000)).toBeLessThan(400);
  });

  it("hash bound to the sid: the same code under another sid does not match", () => {
    const stored = hashCode(keys, "VE1", "123456");
    expect(codeMatches(keys, "VE1", "123456", stored)).toBe(true);
    expect(codeMatches(keys, "VE2", "123456", stored)).toBe(false);
    expect(codeMatches(keys, "VE1", "123457", stored)).toBe(false);
    expect(codeMatches(deriveKeyring("b".repeat(43)), "VE1", "123456", stored)).toBe(false);
    expect(stored).not.toContain("123456");
  });

  it("sealed codes open only with the same key and the same sid", () => {
    const sealed = seal(keys, "123456", "VE1");
    expect(open(keys, sealed, "VE1")).toBe("123456");
    expect(() => open(keys, sealed, "VE2")).toThrow();
    expect(() => open(deriveKeyring("b".repeat(43)), sealed, "VE1")).toThrow();
    expect(seal(keys, "123456", "VE1")).not.toBe(sealed);
  });
});

describe("addresses", () => {
  it("phone numbers need + and must be valid; they come back in E.164 with country and line type", () => {
    expect(parsePhone(" +44 20 7946 0018 ")).toMatchObject({ e164: "+442079460018", country: "GB", lineType: "FIXED_LINE" });
    expect(parsePhone("+33 6 12 34 56 78")).toMatchObject({ e164: "+33612345678", country: "FR", lineType: "MOBILE" });
    for (const bad of ["07700900123", "+44", "+44 7700 900123 ext 5", "+1 800 FLOWERS"]) {
      expect(() => parsePhone(bad)).toThrow(VerifyError);
    }
  });

  it("email addresses follow RFC 5321 limits; the domain is lower-cased", () => {
    expect(parseEmail("first.last+tag@Sub.Example.ORG")).toBe("first.last+tag@sub.example.org");
    expect(parseEmail("o'brien@example.ie")).toBe("o'brien@example.ie");
    for (const bad of ["a@b", "a..b@example.com", ".a@example.com", `${"x".repeat(65)}@example.com`, "a@-example.com", "a@example.c0m"]) {
      expect(() => parseEmail(bad), bad).toThrow(VerifyError);
    }
  });
});

describe("service names", () => {
  it("follow Twilio's rules", () => {
    expect(friendlyName.safeParse("My Shop").success).toBe(true);
    expect(friendlyName.safeParse("1234 Shop").success).toBe(true);
    expect(friendlyName.safeParse("12345 Shop").success).toBe(false);
    expect(friendlyName.safeParse("x".repeat(30)).success).toBe(true);
    expect(friendlyName.safeParse("x".repeat(31)).success).toBe(false);
    expect(friendlyName.safeParse("go to www.example").success).toBe(false);
    expect(friendlyName.safeParse("<script>").success).toBe(false);
  });
});

describe("locales", () => {
  it("resolve: explicit locale along its chain → the number's country → the service default → English", () => {
    expect(fallbackChain("zh-Hant-TW")).toEqual(["zh-Hant-TW", "zh-Hant", "zh"]);
    expect(resolveLocale("pt-BR", "FR", "de").locale).toBe("pt-BR");
    expect(resolveLocale("fr-CA", null, "de").locale).toBe("fr");
    expect(resolveLocale("xx", "BR", "de").locale).toBe("pt-BR");
    expect(resolveLocale(null, "MX", "de").locale).toBe("es-419");
    expect(resolveLocale(null, "ZZ", "de").locale).toBe("de");
    expect(resolveLocale(null, null, "xx").locale).toBe("en");
    expect(resolveLocale("PT-br", null, "en").locale).toBe("pt-BR");
  });

  it("at least 30 locales, each with every message filled and its placeholders intact", () => {
    const all = supportedLocales();
    expect(all.length).toBeGreaterThanOrEqual(30);
    for (const tag of all) {
      const { wording } = resolveLocale(tag, null, "en");
      expect(wording.code, tag).toContain("{code}");
      expect(wording.code, tag).toContain("{name}");
      expect(wording.subject, tag).toContain("{name}");
      expect(wording.press, tag).toContain("{digit}");
      for (const text of Object.values(wording)) expect(text.trim().length, tag).toBeGreaterThan(0);
    }
  });
});

describe("client tokens", () => {
  it("are refused when tampered with or expired", async () => {
    const clock = new ManualClock(1_000_000);
    const auth = new Authenticator({ store: null as never, keys, clock, adminKeyHash: () => null });
    const token = issueClientToken(keys, { sid: "VEa", svc: "VAb", exp: 2000 });
    // The principal carries its expiry (epoch ms): streams opened with the token end then.
    expect(await auth.resolve(`Bearer ${token}`)).toEqual({ kind: "client", resourceSid: "VEa", serviceSid: "VAb", expiresAt: 2_000_000 });
    const [payload, sig] = token.slice(4).split(".");
    const forged = Buffer.from(JSON.stringify({ sid: "VEother", svc: "VAb", exp: 2000 })).toString("base64url");
    await expect(auth.resolve(`Bearer vgc_${forged}.${sig}`)).rejects.toMatchObject({ code: "UNAUTHENTICATED" });
    await expect(auth.resolve(`Bearer vgc_${payload}.${sig.slice(1)}`)).rejects.toMatchObject({ code: "UNAUTHENTICATED" });
    clock.set(2_000_000);
    await expect(auth.resolve(`Bearer ${token}`)).rejects.toMatchObject({ code: "UNAUTHENTICATED" });
  });
});

describe("cursors", () => {
  it("round-trip and refuse anything else", () => {
    expect(decodeCursor(encodeCursor(42))).toBe(42);
    expect(() => decodeCursor("garbage")).toThrow(VerifyError);
  });
});
