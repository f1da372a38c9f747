CREATE TABLE "challenges" (
	"seq" bigserial PRIMARY KEY NOT NULL,
	"sid" text NOT NULL,
	"service_sid" text NOT NULL,
	"factor_sid" text,
	"identity" text,
	"factor_type" text NOT NULL,
	"status" text NOT NULL,
	"details" text,
	"hidden_details" text,
	"webauthn_challenge" text,
	"failed_attempts" integer DEFAULT 0 NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"expires_at" bigint NOT NULL,
	"date_created" bigint NOT NULL,
	"date_updated" bigint NOT NULL,
	"date_responded" bigint,
	CONSTRAINT "challenges_sid_unique" UNIQUE("sid")
);
--> statement-breakpoint
CREATE TABLE "entities" (
	"seq" bigserial PRIMARY KEY NOT NULL,
	"sid" text NOT NULL,
	"service_sid" text NOT NULL,
	"identity" text NOT NULL,
	"user_handle" text NOT NULL,
	"date_created" bigint NOT NULL,
	CONSTRAINT "entities_sid_unique" UNIQUE("sid")
);
--> statement-breakpoint
CREATE TABLE "factors" (
	"seq" bigserial PRIMARY KEY NOT NULL,
	"sid" text NOT NULL,
	"service_sid" text NOT NULL,
	"entity_sid" text NOT NULL,
	"identity" text NOT NULL,
	"factor_type" text NOT NULL,
	"status" text NOT NULL,
	"friendly_name" text NOT NULL,
	"credential_id" text,
	"public_key" text,
	"counter" bigint DEFAULT 0 NOT NULL,
	"transports" text,
	"pending_challenge" text,
	"failed_attempts" integer DEFAULT 0 NOT NULL,
	"metadata" text,
	"date_created" bigint NOT NULL,
	"date_updated" bigint NOT NULL,
	CONSTRAINT "factors_sid_unique" UNIQUE("sid")
);
--> statement-breakpoint
ALTER TABLE "services" ADD COLUMN "passkeys" text;--> statement-breakpoint
CREATE INDEX "challenges_factor" ON "challenges" USING btree ("factor_sid","seq");--> statement-breakpoint
CREATE UNIQUE INDEX "entities_identity" ON "entities" USING btree ("service_sid","identity");--> statement-breakpoint
CREATE UNIQUE INDEX "entities_handle" ON "entities" USING btree ("service_sid","user_handle");--> statement-breakpoint
CREATE INDEX "factors_entity" ON "factors" USING btree ("service_sid","identity");--> statement-breakpoint
CREATE UNIQUE INDEX "factors_credential" ON "factors" USING btree ("service_sid","credential_id");