import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv, type ValidateFunction } from "ajv";
import formats from "ajv-formats";

const addFormats = formats as unknown as typeof formats.default;

/**
 * Twilio's own OpenAPI description of Verify v2 (twilio/twilio-oai, MIT: twilio-oai.LICENSE beside it),
 * made strict: every object it describes must carry exactly the properties it lists (each may be null
 * where the spec says nullable), so an extra, missing or mistyped field fails the test that got it.
 */
const spec = JSON.parse(readFileSync(join(import.meta.dirname, "twilio_verify_v2.json"), "utf8"));

type Json = Record<string, any>;

/** Every object with `properties` gets `required: all of them` and `additionalProperties: false`. */
function strict(schema: Json): Json {
  if (Array.isArray(schema)) return schema.map(strict) as unknown as Json;
  if (schema === null || typeof schema !== "object") return schema;
  const out: Json = {};
  for (const [k, v] of Object.entries(schema)) out[k] = k === "examples" || k === "example" ? v : strict(v as Json);
  // "nullable" without a type (Twilio's `lookup`, `sna`…): any value, null included.
  if (out.nullable === true && out.type === undefined) delete out.nullable;
  if (out.properties && typeof out.properties === "object") {
    out.required = Object.keys(out.properties);
    out.additionalProperties = false;
  }
  return out;
}

const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
// Twilio's own formats: a map of URLs, an ISO country code.
ajv.addFormat("uri-map", true);
ajv.addFormat("iso-country-code", /^[A-Z]{2}$|^all$/);
ajv.addSchema({ $id: "twilio", components: strict(spec.components) });

/** Error bodies: the schema the spec gives its 429 answers, `{ code, message, more_info, status }`. */
const errorSchema = strict(spec.paths["/v2/Services/{ServiceSid}/Verifications"].post.responses["429"].content["application/json"].schema);
const validateError = ajv.compile(errorSchema);

interface Operation {
  template: string;
  pattern: RegExp;
  params: number;
  method: string;
  responses: Record<string, ValidateFunction | null>;
}

const rewriteRefs = (schema: Json): Json => JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"twilio#/components/'));

const operations: Operation[] = [];
for (const [template, item] of Object.entries(spec.paths as Json)) {
  for (const method of ["get", "post", "delete"]) {
    const op = item[method];
    if (!op) continue;
    const responses: Operation["responses"] = {};
    for (const [status, response] of Object.entries(op.responses as Json)) {
      const schema = response.content?.["application/json"]?.schema;
      responses[status] = schema ? ajv.compile(rewriteRefs(strict(schema))) : null;
    }
    const params = (template.match(/\{/g) ?? []).length;
    operations.push({ template, method: method.toUpperCase(), params, responses, pattern: new RegExp(`^${template.replace(/\{\w+\}/g, "[^/]+")}$`) });
  }
}
// Literal segments first (/v2/Attempts/Summary before /v2/Attempts/{Sid}).
operations.sort((a, b) => a.params - b.params);

export interface Checked {
  template: string;
  method: string;
  status: number;
}

/** Every response checked so far (a test may assert which operations it covered). */
export const checked: Checked[] = [];

/**
 * Validates one response against the spec: a success must be a status the operation lists, with a body
 * matching its schema exactly; an error must be Twilio's error body with the same status inside it.
 */
export function validateResponse(method: string, path: string, status: number, body: unknown): void {
  const op = operations.find((o) => o.method === method && o.pattern.test(path));
  if (!op) throw new Error(`OpenAPI: no operation ${method} ${path} in Twilio's Verify v2 description`);
  checked.push({ template: op.template, method, status });
  if (status >= 400) {
    if (!validateError(body)) throw new Error(`OpenAPI: ${method} ${op.template} ${status}: not Twilio's error body: ${ajv.errorsText(validateError.errors)}\n${JSON.stringify(body)}`);
    if ((body as Json).status !== status) throw new Error(`OpenAPI: ${method} ${op.template}: error body says status ${(body as Json).status}, HTTP said ${status}`);
    return;
  }
  if (!(String(status) in op.responses)) throw new Error(`OpenAPI: ${method} ${op.template} answered ${status}; the spec lists ${Object.keys(op.responses).join(", ")}`);
  const validate = op.responses[String(status)];
  if (validate === null) {
    if (body !== undefined && body !== "" && body !== null) throw new Error(`OpenAPI: ${method} ${op.template} ${status} must have no body`);
    return;
  }
  if (!validate(body)) throw new Error(`OpenAPI: ${method} ${op.template} ${status}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(body).slice(0, 2000)}`);
}
