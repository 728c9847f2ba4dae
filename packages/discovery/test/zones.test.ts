import { describe, expect, it } from "vitest";
import { portfolioZones } from "../src/index.ts";

describe("portfolioZones", () => {
  it("takes each hostname's last two labels, once", () => {
    const env = (hostnames: string[]) => ({ hostnames }) as never;
    const services = [
      {
        environments: {
          staging: env(["staging-api.example.com"]),
          production: env(["api.example.com", "API.Example.com"]),
        },
      },
      { environments: { production: env(["www.other.dev"]) } },
      { environments: { production: env([]) } },
    ] as never;
    expect(portfolioZones({ services })).toEqual(["example.com", "other.dev"]);
  });
});
