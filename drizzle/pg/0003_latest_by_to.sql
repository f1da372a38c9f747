DROP INDEX "verifications_to";--> statement-breakpoint
CREATE INDEX "verifications_to_seq" ON "verifications" USING btree ("service_sid","to","seq");