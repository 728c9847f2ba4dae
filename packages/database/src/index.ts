/** D1 migrations, status, backups and restores across environments. */
export const packageName = "@lego/database";
