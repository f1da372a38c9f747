// Bench only: counts the queries (round trips) this process sends to PostgreSQL; the count is written
// to $PG_COUNT_FILE every 100 ms (with $PG_COUNT_TEXTS, a count per query text to that file too).
import { renameSync, writeFileSync } from "node:fs";
import pg from "pg";

let count = 0;
const texts = new Map();
const query = pg.Client.prototype.query;
pg.Client.prototype.query = function (...args) {
  count++;
  if (process.env.PG_COUNT_TEXTS) {
    const text = typeof args[0] === "string" ? args[0] : args[0]?.text;
    texts.set(text, (texts.get(text) ?? 0) + 1);
  }
  return query.apply(this, args);
};
const file = process.env.PG_COUNT_FILE;
if (file)
  setInterval(() => {
    writeFileSync(`${file}.tmp`, String(count));
    renameSync(`${file}.tmp`, file); // a reader never sees a half-written count
    if (process.env.PG_COUNT_TEXTS)
      writeFileSync(
        process.env.PG_COUNT_TEXTS,
        JSON.stringify(
          [...texts].sort((a, b) => b[1] - a[1]),
          null,
          1,
        ),
      );
  }, 100).unref();
