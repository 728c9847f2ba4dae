/** Scaffolds a Lego service: wrangler config, domain config, Worker, tests, migrations. */
export const packageName = "create-lego-service";
