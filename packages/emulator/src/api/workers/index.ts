import type { Route } from "../router.ts";
import { assetRoutes } from "./assets.ts";
import { domainRoutes } from "./domains.ts";
import { durableObjectRoutes } from "./durable-objects.ts";
import { routeRoutes } from "./routes.ts";
import { scriptRoutes } from "./scripts.ts";
import { secretRoutes } from "./secrets.ts";
import { settingsRoutes } from "./settings.ts";
import { tailRoutes } from "./tails.ts";
import { versionRoutes } from "./versions.ts";

/** Workers endpoints: services, scripts, versions, deployments, settings, secrets, subdomains, routes, domains. */
export const workersRoutes: Route[] = [
  ...scriptRoutes,
  ...settingsRoutes,
  ...versionRoutes,
  ...secretRoutes,
  ...routeRoutes,
  ...domainRoutes,
  ...assetRoutes,
  ...durableObjectRoutes,
  ...tailRoutes,
];
