/** Finds the services of a portfolio (on disk and in the account), resolves a user's argument to one, and validates before deploy. */
export const packageName = "@lego/discovery";
