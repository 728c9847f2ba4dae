/**
 * @lego/deployment: deploy a service for real. Plan, deploy through wrangler, wait until the new
 * version answers, run the production tests the service declares, audit, roll back.
 */
export { ProductionTester, waitUntilLive, defaultProductionTests } from "./tester.ts";
export type { CheckResult, TestReport, ProductionTesterOptions, WaitUntilLiveOptions } from "./tester.ts";
export { defaultHttpClient } from "./http.ts";
export type { HttpClient, HttpResponse, HttpRequestOptions } from "./http.ts";
