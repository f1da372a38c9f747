CREATE TABLE `api_keys` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`sid` text NOT NULL,
	`service_sid` text NOT NULL,
	`name` text NOT NULL,
	`key_hash` text NOT NULL,
	`date_created` integer NOT NULL,
	`revoked_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_keys_sid_unique` ON `api_keys` (`sid`);--> statement-breakpoint
CREATE UNIQUE INDEX `api_keys_hash` ON `api_keys` (`key_hash`);--> statement-breakpoint
CREATE INDEX `api_keys_service` ON `api_keys` (`service_sid`);--> statement-breakpoint
CREATE TABLE `dev_outbox` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`to` text NOT NULL,
	`channel` text NOT NULL,
	`body` text NOT NULL,
	`code` text,
	`verification_sid` text,
	`attempt_sid` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `dev_outbox_to` ON `dev_outbox` (`to`,`seq`);--> statement-breakpoint
CREATE TABLE `events` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`sid` text NOT NULL,
	`type` text NOT NULL,
	`service_sid` text NOT NULL,
	`resource_sid` text NOT NULL,
	`occurred_at` integer NOT NULL,
	`data` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `events_sid_unique` ON `events` (`sid`);--> statement-breakpoint
CREATE INDEX `events_service` ON `events` (`service_sid`,`seq`);--> statement-breakpoint
CREATE INDEX `events_resource` ON `events` (`resource_sid`);--> statement-breakpoint
CREATE TABLE `outbox` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`kind` text NOT NULL,
	`ref_sid` text NOT NULL,
	`run_at` integer NOT NULL,
	`lease_until` integer,
	`tries` integer DEFAULT 0 NOT NULL,
	`last_error` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `outbox_due` ON `outbox` (`run_at`);--> statement-breakpoint
CREATE TABLE `send_attempts` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`sid` text NOT NULL,
	`verification_sid` text NOT NULL,
	`service_sid` text NOT NULL,
	`to` text NOT NULL,
	`channel` text NOT NULL,
	`status` text NOT NULL,
	`time` integer NOT NULL,
	`provider_message_id` text,
	`error_code` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `send_attempts_sid_unique` ON `send_attempts` (`sid`);--> statement-breakpoint
CREATE INDEX `send_attempts_verification` ON `send_attempts` (`verification_sid`);--> statement-breakpoint
CREATE INDEX `send_attempts_to` ON `send_attempts` (`service_sid`,`to`,`time`);--> statement-breakpoint
CREATE TABLE `services` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`sid` text NOT NULL,
	`friendly_name` text NOT NULL,
	`code_length` integer NOT NULL,
	`ttl_seconds` integer NOT NULL,
	`max_check_attempts` integer NOT NULL,
	`max_send_attempts` integer NOT NULL,
	`custom_code_enabled` integer NOT NULL,
	`psd2_enabled` integer NOT NULL,
	`do_not_share_warning_enabled` integer NOT NULL,
	`dtmf_input_required` integer NOT NULL,
	`lookup_enabled` integer NOT NULL,
	`skip_sms_to_landlines` integer NOT NULL,
	`default_locale` text NOT NULL,
	`channels` text NOT NULL,
	`fraud_guard` text NOT NULL,
	`test_numbers` text NOT NULL,
	`date_created` integer NOT NULL,
	`date_updated` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `services_sid_unique` ON `services` (`sid`);--> statement-breakpoint
CREATE TABLE `settings` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `verifications` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`sid` text NOT NULL,
	`service_sid` text NOT NULL,
	`to` text NOT NULL,
	`channel` text NOT NULL,
	`status` text NOT NULL,
	`code_hash` text NOT NULL,
	`code_sealed` text,
	`code_length` integer NOT NULL,
	`check_attempts` integer DEFAULT 0 NOT NULL,
	`max_check_attempts` integer NOT NULL,
	`amount` text,
	`payee` text,
	`locale` text,
	`custom_friendly_name` text,
	`lookup` text,
	`tags` text,
	`version` integer DEFAULT 1 NOT NULL,
	`date_created` integer NOT NULL,
	`date_updated` integer NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `verifications_sid_unique` ON `verifications` (`sid`);--> statement-breakpoint
CREATE INDEX `verifications_to` ON `verifications` (`service_sid`,`to`,`status`);--> statement-breakpoint
CREATE INDEX `verifications_due` ON `verifications` (`status`,`expires_at`);--> statement-breakpoint
CREATE INDEX `verifications_service` ON `verifications` (`service_sid`,`seq`);