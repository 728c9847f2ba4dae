/** The encrypted token vault and generation, diff and push of Worker secrets. */
export const packageName = "@lego/secrets";
