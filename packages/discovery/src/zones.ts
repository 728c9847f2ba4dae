import type { Portfolio } from "./model.ts";

/**
 * The zones a portfolio's hostnames need: each hostname's last two labels (`staging-api.example.com`
 * → `example.com`). A portfolio on a multi-label public suffix (`example.co.uk`) needs its zones named
 * explicitly (`lego local up --zone example.co.uk`): this reads no public suffix list.
 *
 * @example
 * portfolioZones(portfolio); // ["example.com"]
 */
export function portfolioZones(portfolio: Pick<Portfolio, "services">): string[] {
  const zones = new Set<string>();
  for (const service of portfolio.services) {
    for (const env of Object.values(service.environments)) {
      for (const host of env.hostnames) {
        const labels = host.toLowerCase().split(".").filter(Boolean);
        if (labels.length >= 2) zones.add(labels.slice(-2).join("."));
      }
    }
  }
  return [...zones].sort();
}
