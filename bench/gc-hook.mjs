// Bench only: `kill -USR2 <gateway>` runs a full garbage collection (the gateway is started with
// --expose-gc), so memory is compared between two quiet, collected states.
process.on("SIGUSR2", () => globalThis.gc?.());
