import { invalidRestParameter, missingParameter } from "./errors.js";

/** The longest value a parameter may carry (a JSON parameter may be longer); longer answers 60200, not 500. */
const MAX_VALUE = 4096;
const MAX_JSON = 64 * 1024;

/**
 * A request's parameters as Twilio's SDKs send them: `application/x-www-form-urlencoded` (POST) or the
 * query string (GET), arrays as repeated keys, booleans as `true`/`false`, JSON-valued parameters as JSON
 * strings. Unknown parameters are ignored, as Twilio does; a known one given twice (unless it is a list),
 * of the wrong type or too long answers 400 with Twilio's code, never 500.
 */
export class Params {
  private readonly values = new Map<string, string[]>();

  constructor(entries: Iterable<[string, string]>) {
    for (const [key, value] of entries) {
      const list = this.values.get(key);
      if (list) list.push(value);
      else this.values.set(key, [value]);
    }
  }

  static fromForm(body: string): Params {
    return new Params(new URLSearchParams(body));
  }

  has(name: string): boolean {
    return this.values.has(name);
  }

  /** Names given, in order (for prefixed families such as `Totp.*`). */
  names(): string[] {
    return [...this.values.keys()];
  }

  private one(name: string, max = MAX_VALUE): string | undefined {
    const list = this.values.get(name);
    if (!list) return undefined;
    if (list.length > 1) throw invalidRestParameter(name, "given more than once");
    const value = list[0];
    if (value.length > max) throw invalidRestParameter(name, `longer than ${max} characters`);
    return value;
  }

  string(name: string): string | undefined;
  string(name: string, options: { required: true; max?: number }): string;
  string(name: string, options: { required?: boolean; max?: number }): string | undefined;
  string(name: string, options: { required?: boolean; max?: number } = {}): string | undefined {
    const value = this.one(name, options.max);
    if (value === undefined || value === "") {
      if (options.required) throw missingParameter(name);
      return undefined;
    }
    return value;
  }

  required(name: string): string {
    return this.string(name, { required: true });
  }

  int(name: string, options: { required?: boolean; min?: number; max?: number } = {}): number | undefined {
    const raw = this.string(name, { required: options.required });
    if (raw === undefined) return undefined;
    if (!/^-?\d{1,15}$/.test(raw)) throw invalidRestParameter(name, "must be an integer");
    const value = Number(raw);
    if (options.min !== undefined && value < options.min) throw invalidRestParameter(name, `must be at least ${options.min}`);
    if (options.max !== undefined && value > options.max) throw invalidRestParameter(name, `must be at most ${options.max}`);
    return value;
  }

  bool(name: string): boolean | undefined {
    const raw = this.string(name);
    if (raw === undefined) return undefined;
    const lower = raw.toLowerCase();
    if (lower === "true") return true;
    if (lower === "false") return false;
    throw invalidRestParameter(name, "must be true or false");
  }

  /** One of `values`, compared without case; answered in the case of `values`. */
  choice<T extends string>(name: string, values: readonly T[], options: { required?: boolean } = {}): T | undefined {
    const raw = this.string(name, { required: options.required });
    if (raw === undefined) return undefined;
    const found = values.find((v) => v.toLowerCase() === raw.toLowerCase());
    if (found === undefined) throw invalidRestParameter(name, `must be one of ${values.join(", ")}`);
    return found;
  }

  /** A JSON-valued parameter (Twilio's `RateLimits`, `ChannelConfiguration`, `Metadata`…): an object. */
  json(name: string, options: { required?: boolean } = {}): Record<string, unknown> | undefined {
    const raw = this.one(name, MAX_JSON);
    if (raw === undefined || raw === "") {
      if (options.required) throw missingParameter(name);
      return undefined;
    }
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      throw invalidRestParameter(name, "must be a JSON object");
    }
    if (value === null || typeof value !== "object" || Array.isArray(value)) throw invalidRestParameter(name, "must be a JSON object");
    return value as Record<string, unknown>;
  }

  /** A list parameter: repeated keys (`EventTypes=a&EventTypes=b`); an absent list is undefined. */
  list(name: string, options: { maxItems?: number } = {}): string[] | undefined {
    const list = this.values.get(name);
    if (!list) return undefined;
    const max = options.maxItems ?? 100;
    if (list.length > max) throw invalidRestParameter(name, `at most ${max} values`);
    for (const value of list) if (value.length > MAX_VALUE) throw invalidRestParameter(name, `a value longer than ${MAX_VALUE} characters`);
    return list.filter((v) => v !== "");
  }
}
