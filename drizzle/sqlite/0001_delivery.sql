ALTER TABLE `services` ADD `web_otp_domain` text;--> statement-breakpoint
CREATE INDEX `send_attempts_provider_message` ON `send_attempts` (`provider_message_id`);