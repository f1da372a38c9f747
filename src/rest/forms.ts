import { restNotFound } from "./errors.js";
import type { Route } from "./router.js";

/**
 * Twilio's `verify.v2.form` for `form-push`: the parameters a push factor is created with, as a JSON
 * Schema (what Verigate's push factors take: an ES256 public key, and the device's notification details).
 */
const pushForm = {
  create_factor: {
    title: "Create a push factor",
    type: "object",
    required: ["binding", "config"],
    properties: {
      binding: {
        type: "object",
        required: ["public_key", "alg"],
        properties: {
          public_key: { type: "string", description: "The device's public key (ECDSA P-256), base64 DER (SubjectPublicKeyInfo)" },
          alg: { type: "string", enum: ["ES256"] },
        },
      },
      config: {
        type: "object",
        required: ["sdk_version", "app_id", "notification_platform"],
        properties: {
          sdk_version: { type: "string" },
          app_id: { type: "string" },
          notification_platform: { type: "string", enum: ["apn", "fcm", "none"] },
          notification_token: { type: "string", description: "Required unless notification_platform is none" },
        },
      },
    },
  },
};

export const formRoutes: Route[] = [
  {
    method: "GET",
    path: "/v2/Forms/{FormType}",
    handle: async ({ path }, c) => {
      if (path.FormType !== "form-push") throw restNotFound(`The form ${path.FormType}`);
      return { status: 200, body: { form_type: "form-push", forms: pushForm, form_meta: { binding: { separator: "|" } }, url: `${c.base}/v2/Forms/form-push` } };
    },
  },
];
