import {
  createFeatureGuard,
  initializeService,
  registerDomains,
  type ServiceContext,
} from "../../src/index.ts";
import { domains } from "./domains.ts";

registerDomains(domains);

// Counts the distinct contexts this isolate has built, to prove memoisation across requests.
const seen = new WeakSet<ServiceContext>();
let built = 0;

async function handlePremiumRequest(request: Request): Promise<Response> {
  return Response.json({ premium: new URL(request.url).pathname });
}

async function handleRequest(request: Request, env: object): Promise<Response> {
  const service = initializeService(env, request);
  if (!seen.has(service)) {
    seen.add(service);
    built++;
  }
  return Response.json({
    name: service.name,
    environment: service.environment,
    resolvedBy: service.resolvedBy,
    features: service.features.all(),
    built,
  });
}

export default {
  async fetch(request: Request, env: object, ctx: unknown): Promise<Response> {
    // The seed's "Basic Usage": initialise with domain context, guard premium endpoints.
    if (request.url.includes("/premium")) {
      return createFeatureGuard("premiumFeatures")(handlePremiumRequest)(request, env, ctx);
    }
    return handleRequest(request, env);
  },
};
