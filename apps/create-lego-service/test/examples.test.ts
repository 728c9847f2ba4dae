// The examples are the scaffolder's output, committed: this keeps them so (a template change without
// regenerating them fails here), and checks that discovery reads the portfolio as the README says.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { basicChecks, portfolioChecks, scanPortfolio } from "@lego/discovery";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { planScaffold, type ScaffoldOptions } from "../src/index.ts";

const repo = join(import.meta.dirname, "../../..");
const portfolioRoot = join(repo, "examples/portfolio");

/** The generator commands of examples/portfolio/README.md and examples/standalone-service/README.md. */
const examples: Array<ScaffoldOptions & { editedReadme?: boolean }> = [
  {
    name: "api-gateway",
    type: "api-gateway",
    domain: "api.example.com",
    dir: "examples/portfolio/services/api-gateway",
  },
  {
    name: "auth-service",
    type: "auth-service",
    domain: "auth.example.com",
    dir: "examples/portfolio/services/auth-service",
  },
  {
    name: "data-service",
    type: "data-service",
    domain: "data.example.com",
    dir: "examples/portfolio/services/data-service",
  },
  {
    name: "website",
    type: "static-site",
    domain: "www.example.com",
    dir: "examples/portfolio/services/website",
  },
  {
    name: "inventory",
    type: "data-service",
    domain: "inventory.example.net",
    dir: "examples/standalone-service",
    editedReadme: true,
  },
];

/** The files of a folder that git would commit: tracked or new, minus what .gitignore leaves out. */
async function committedFiles(dir: string): Promise<string[]> {
  const { stdout } = await execa("git", ["ls-files", "--cached", "--others", "--exclude-standard", "."], {
    cwd: dir,
  });
  return stdout.split("\n").filter(Boolean).sort();
}

describe("examples", () => {
  it.each(examples)("$dir is exactly what the scaffolder writes", async (example) => {
    const plan = planScaffold({ ...example, runtimeVersion: "workspace:^" });
    const dir = join(repo, example.dir);
    expect(await committedFiles(dir)).toEqual(plan.files.map((f) => f.path));
    for (const file of plan.files) {
      const committed = await readFile(join(dir, file.path), "utf8");
      if (file.path === "README.md" && example.editedReadme)
        expect(committed.startsWith(file.contents)).toBe(true);
      else expect(committed, `${example.dir}/${file.path}`).toBe(file.contents);
    }
  });

  it("examples/portfolio is the portfolio its README describes, and passes the basic validation", async () => {
    const portfolio = await scanPortfolio({ root: portfolioRoot, cache: false });
    expect(
      portfolio.services.map((s) => [
        s.name,
        s.dir,
        s.environments.production?.hostname,
        s.environments.staging?.hostname,
      ]),
    ).toEqual([
      ["api-gateway", "services/api-gateway", "api.example.com", "staging-api.example.com"],
      ["auth-service", "services/auth-service", "auth.example.com", "staging-auth.example.com"],
      ["data-service", "services/data-service", "data.example.com", "staging-data.example.com"],
      ["website", "services/website", "www.example.com", "staging-www.example.com"],
    ]);
    const order = portfolio.graph.order;
    expect(order.indexOf("auth-service")).toBeLessThan(order.indexOf("api-gateway"));
    expect(order.indexOf("data-service")).toBeLessThan(order.indexOf("api-gateway"));
    const failing = [
      ...portfolioChecks(portfolio),
      ...portfolio.services.flatMap((s) => s.environmentNames.flatMap((e) => basicChecks(portfolio, s, e))),
    ].filter((c) => !c.ok && c.severity === "error");
    expect(failing).toEqual([]);
  });
});
