CREATE TABLE `fraud_blocks` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`sid` text NOT NULL,
	`service_sid` text NOT NULL,
	`prefix` text NOT NULL,
	`reason` text NOT NULL,
	`severity` integer NOT NULL,
	`level` text NOT NULL,
	`blocked_until` integer NOT NULL,
	`date_created` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `fraud_blocks_sid_unique` ON `fraud_blocks` (`sid`);--> statement-breakpoint
CREATE INDEX `fraud_blocks_prefix` ON `fraud_blocks` (`service_sid`,`prefix`,`blocked_until`);--> statement-breakpoint
CREATE INDEX `fraud_blocks_service` ON `fraud_blocks` (`service_sid`,`seq`);--> statement-breakpoint
CREATE TABLE `rate_limits` (
	`key` text PRIMARY KEY NOT NULL,
	`points` integer DEFAULT 0 NOT NULL,
	`expire` integer
);
--> statement-breakpoint
CREATE TABLE `webhook_deliveries` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`webhook_sid` text NOT NULL,
	`service_sid` text NOT NULL,
	`event_sid` text NOT NULL,
	`event_type` text NOT NULL,
	`status` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`last_status_code` integer,
	`last_error` text,
	`date_created` integer NOT NULL,
	`date_updated` integer NOT NULL,
	`delivered_at` integer
);
--> statement-breakpoint
CREATE INDEX `webhook_deliveries_webhook` ON `webhook_deliveries` (`webhook_sid`,`seq`);--> statement-breakpoint
CREATE TABLE `webhooks` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`sid` text NOT NULL,
	`service_sid` text NOT NULL,
	`url` text NOT NULL,
	`event_types` text NOT NULL,
	`enabled` integer NOT NULL,
	`secret_sealed` text NOT NULL,
	`date_created` integer NOT NULL,
	`date_updated` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `webhooks_sid_unique` ON `webhooks` (`sid`);--> statement-breakpoint
CREATE INDEX `webhooks_service` ON `webhooks` (`service_sid`);--> statement-breakpoint
ALTER TABLE `challenges` ADD `silent` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `challenges` ADD `fallback` text;--> statement-breakpoint
ALTER TABLE `challenges` ADD `fallback_verification_sid` text;--> statement-breakpoint
CREATE INDEX `challenges_fallback` ON `challenges` (`fallback_verification_sid`);--> statement-breakpoint
ALTER TABLE `factors` ADD `config` text;--> statement-breakpoint
ALTER TABLE `factors` ADD `secret` text;--> statement-breakpoint
ALTER TABLE `services` ADD `totp` text;--> statement-breakpoint
ALTER TABLE `services` ADD `rate_limits` text;--> statement-breakpoint
ALTER TABLE `services` ADD `geo_permissions` text;--> statement-breakpoint
ALTER TABLE `services` ADD `safe_list` text;--> statement-breakpoint
ALTER TABLE `services` ADD `block_premium_numbers` integer DEFAULT true NOT NULL;--> statement-breakpoint
ALTER TABLE `verifications` ADD `country` text;--> statement-breakpoint
ALTER TABLE `verifications` ADD `prefix` text;--> statement-breakpoint
ALTER TABLE `verifications` ADD `test_mode` integer DEFAULT false NOT NULL;--> statement-breakpoint
CREATE INDEX `verifications_prefix_time` ON `verifications` (`service_sid`,`prefix`,`date_created`);--> statement-breakpoint
CREATE INDEX `verifications_service_time` ON `verifications` (`service_sid`,`date_created`);