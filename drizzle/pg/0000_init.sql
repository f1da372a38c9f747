CREATE TABLE "api_keys" (
	"seq" bigserial PRIMARY KEY NOT NULL,
	"sid" text NOT NULL,
	"service_sid" text NOT NULL,
	"name" text NOT NULL,
	"key_hash" text NOT NULL,
	"date_created" bigint NOT NULL,
	"revoked_at" bigint,
	CONSTRAINT "api_keys_sid_unique" UNIQUE("sid")
);
--> statement-breakpoint
CREATE TABLE "dev_outbox" (
	"seq" bigserial PRIMARY KEY NOT NULL,
	"to" text NOT NULL,
	"channel" text NOT NULL,
	"body" text NOT NULL,
	"code" text,
	"verification_sid" text,
	"attempt_sid" text,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "events" (
	"seq" bigserial PRIMARY KEY NOT NULL,
	"sid" text NOT NULL,
	"type" text NOT NULL,
	"service_sid" text NOT NULL,
	"resource_sid" text NOT NULL,
	"occurred_at" bigint NOT NULL,
	"data" text NOT NULL,
	CONSTRAINT "events_sid_unique" UNIQUE("sid")
);
--> statement-breakpoint
CREATE TABLE "outbox" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"ref_sid" text NOT NULL,
	"run_at" bigint NOT NULL,
	"lease_until" bigint,
	"tries" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "send_attempts" (
	"seq" bigserial PRIMARY KEY NOT NULL,
	"sid" text NOT NULL,
	"verification_sid" text NOT NULL,
	"service_sid" text NOT NULL,
	"to" text NOT NULL,
	"channel" text NOT NULL,
	"status" text NOT NULL,
	"time" bigint NOT NULL,
	"provider_message_id" text,
	"error_code" text,
	CONSTRAINT "send_attempts_sid_unique" UNIQUE("sid")
);
--> statement-breakpoint
CREATE TABLE "services" (
	"seq" bigserial PRIMARY KEY NOT NULL,
	"sid" text NOT NULL,
	"friendly_name" text NOT NULL,
	"code_length" integer NOT NULL,
	"ttl_seconds" integer NOT NULL,
	"max_check_attempts" integer NOT NULL,
	"max_send_attempts" integer NOT NULL,
	"custom_code_enabled" boolean NOT NULL,
	"psd2_enabled" boolean NOT NULL,
	"do_not_share_warning_enabled" boolean NOT NULL,
	"dtmf_input_required" boolean NOT NULL,
	"lookup_enabled" boolean NOT NULL,
	"skip_sms_to_landlines" boolean NOT NULL,
	"default_locale" text NOT NULL,
	"channels" text NOT NULL,
	"fraud_guard" text NOT NULL,
	"test_numbers" text NOT NULL,
	"web_otp_domain" text,
	"date_created" bigint NOT NULL,
	"date_updated" bigint NOT NULL,
	CONSTRAINT "services_sid_unique" UNIQUE("sid")
);
--> statement-breakpoint
CREATE TABLE "settings" (
	"key" text PRIMARY KEY NOT NULL,
	"value" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sna_sessions" (
	"token_hash" text PRIMARY KEY NOT NULL,
	"verification_sid" text NOT NULL,
	"attempt_sid" text NOT NULL,
	"expires_at" bigint NOT NULL,
	"opened_at" bigint
);
--> statement-breakpoint
CREATE TABLE "verifications" (
	"seq" bigserial PRIMARY KEY NOT NULL,
	"sid" text NOT NULL,
	"service_sid" text NOT NULL,
	"to" text NOT NULL,
	"channel" text NOT NULL,
	"status" text NOT NULL,
	"code_hash" text NOT NULL,
	"code_sealed" text,
	"code_length" integer NOT NULL,
	"check_attempts" integer DEFAULT 0 NOT NULL,
	"max_check_attempts" integer NOT NULL,
	"amount" text,
	"payee" text,
	"locale" text,
	"custom_friendly_name" text,
	"lookup" text,
	"tags" text,
	"sna_url" text,
	"sna_error_codes" text,
	"sna_state" text,
	"sna_client_token_required" boolean DEFAULT false NOT NULL,
	"sna_client_token_hash" text,
	"auto_fallback" boolean DEFAULT false NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"date_created" bigint NOT NULL,
	"date_updated" bigint NOT NULL,
	"expires_at" bigint NOT NULL,
	CONSTRAINT "verifications_sid_unique" UNIQUE("sid")
);
--> statement-breakpoint
CREATE UNIQUE INDEX "api_keys_hash" ON "api_keys" USING btree ("key_hash");--> statement-breakpoint
CREATE INDEX "api_keys_service" ON "api_keys" USING btree ("service_sid");--> statement-breakpoint
CREATE INDEX "dev_outbox_to" ON "dev_outbox" USING btree ("to","seq");--> statement-breakpoint
CREATE INDEX "events_service" ON "events" USING btree ("service_sid","seq");--> statement-breakpoint
CREATE INDEX "events_resource" ON "events" USING btree ("resource_sid");--> statement-breakpoint
CREATE INDEX "outbox_due" ON "outbox" USING btree ("run_at");--> statement-breakpoint
CREATE INDEX "send_attempts_verification" ON "send_attempts" USING btree ("verification_sid");--> statement-breakpoint
CREATE INDEX "send_attempts_to" ON "send_attempts" USING btree ("service_sid","to","time");--> statement-breakpoint
CREATE INDEX "send_attempts_provider_message" ON "send_attempts" USING btree ("provider_message_id");--> statement-breakpoint
CREATE INDEX "sna_sessions_verification" ON "sna_sessions" USING btree ("verification_sid");--> statement-breakpoint
CREATE INDEX "verifications_to" ON "verifications" USING btree ("service_sid","to","status");--> statement-breakpoint
CREATE INDEX "verifications_due" ON "verifications" USING btree ("status","expires_at");--> statement-breakpoint
CREATE INDEX "verifications_service" ON "verifications" USING btree ("service_sid","seq");