import type { Principal } from "../domain/access/principal.js";
import { authorize } from "../domain/access/rules.js";
import { builder } from "./builder.js";

type Known = Exclude<Principal, { kind: "anonymous" }>;

const ViewerKindEnum = builder.enumType("ViewerKind", {
  description: "The kind of token a request carries (API.md, Authentication)",
  values: {
    ADMIN: { description: "The admin key: everything" },
    API_KEY: { description: "A service's API key: everything inside that service" },
    CLIENT: { description: "A client token: one verification or challenge" },
    ACCESS: { description: "An access token: createFactor for one identity and factor type" },
    DEVICE: { description: "A push device's token: its own factor and challenges" },
  },
});

const kinds = { admin: "ADMIN", apiKey: "API_KEY", client: "CLIENT", access: "ACCESS", device: "DEVICE" } as const;

const ViewerRef = builder.objectRef<Known>("Viewer").implement({
  description: "Who the request's token is: what a console or a client shows before it asks for more",
  fields: (t) => ({
    kind: t.field({ type: ViewerKindEnum, description: "The token's kind", resolve: (p) => kinds[p.kind] }),
    serviceSid: t.id({ nullable: true, description: "The service the token is bound to; null for the admin key", resolve: (p) => (p.kind === "admin" ? null : p.serviceSid) }),
    keySid: t.id({ nullable: true, description: "An API key's sid (SK…); null for other kinds", resolve: (p) => (p.kind === "apiKey" ? p.keySid : null) }),
  }),
});

builder.queryFields((t) => ({
  viewer: t.field({
    type: ViewerRef,
    description: "Who the request's token is. Any token; without one: UNAUTHENTICATED.",
    resolve: (_, __, { principal }) => authorize(principal, "viewer") as Known,
  }),
}));
