CREATE TABLE `challenges` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`sid` text NOT NULL,
	`service_sid` text NOT NULL,
	`factor_sid` text,
	`identity` text,
	`factor_type` text NOT NULL,
	`status` text NOT NULL,
	`details` text,
	`hidden_details` text,
	`webauthn_challenge` text,
	`failed_attempts` integer DEFAULT 0 NOT NULL,
	`version` integer DEFAULT 1 NOT NULL,
	`expires_at` integer NOT NULL,
	`date_created` integer NOT NULL,
	`date_updated` integer NOT NULL,
	`date_responded` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `challenges_sid_unique` ON `challenges` (`sid`);--> statement-breakpoint
CREATE INDEX `challenges_factor` ON `challenges` (`factor_sid`,`seq`);--> statement-breakpoint
CREATE TABLE `entities` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`sid` text NOT NULL,
	`service_sid` text NOT NULL,
	`identity` text NOT NULL,
	`user_handle` text NOT NULL,
	`date_created` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `entities_sid_unique` ON `entities` (`sid`);--> statement-breakpoint
CREATE UNIQUE INDEX `entities_identity` ON `entities` (`service_sid`,`identity`);--> statement-breakpoint
CREATE UNIQUE INDEX `entities_handle` ON `entities` (`service_sid`,`user_handle`);--> statement-breakpoint
CREATE TABLE `factors` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`sid` text NOT NULL,
	`service_sid` text NOT NULL,
	`entity_sid` text NOT NULL,
	`identity` text NOT NULL,
	`factor_type` text NOT NULL,
	`status` text NOT NULL,
	`friendly_name` text NOT NULL,
	`credential_id` text,
	`public_key` text,
	`counter` integer DEFAULT 0 NOT NULL,
	`transports` text,
	`pending_challenge` text,
	`failed_attempts` integer DEFAULT 0 NOT NULL,
	`metadata` text,
	`date_created` integer NOT NULL,
	`date_updated` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `factors_sid_unique` ON `factors` (`sid`);--> statement-breakpoint
CREATE INDEX `factors_entity` ON `factors` (`service_sid`,`identity`);--> statement-breakpoint
CREATE UNIQUE INDEX `factors_credential` ON `factors` (`service_sid`,`credential_id`);--> statement-breakpoint
ALTER TABLE `services` ADD `passkeys` text;