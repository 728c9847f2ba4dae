/** Errors, environment registry, atomic files, the portfolio lock, the run journal and the ports every Lego library takes. */
export const packageName = "@lego/core";
