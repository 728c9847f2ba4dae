/**
 * @lego/deployment: deploy a service for real. Plan, deploy through wrangler, wait until the new
 * version answers, run the production tests the service declares, audit, roll back.
 */

export type { AuditEvent, DeploymentAuditorOptions } from "./audit.ts";
export { DeploymentAuditor, resolveActor } from "./audit.ts";
export type { HttpClient, HttpRequestOptions, HttpResponse } from "./http.ts";
export { defaultHttpClient } from "./http.ts";
export type { RunReport, ServiceRunReport, StepRecord } from "./report.ts";
export { listRuns, readRunReport, renderReportHtml, renderReportMarkdown, writeRunReport } from "./report.ts";
export type { CheckResult, ProductionTesterOptions, TestReport, WaitUntilLiveOptions } from "./tester.ts";
export { defaultProductionTests, ProductionTester, waitUntilLive } from "./tester.ts";
