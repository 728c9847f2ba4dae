import { describe, expect, it } from "vitest";
import {
  diffSecrets,
  missingSecretsError,
  parseSecretTypes,
  planGenerate,
  planPush,
  planRotate,
  planSync,
  requiredSecretNames,
  type SecretsScope,
} from "../src/index.ts";

const scope = (env: string, required = ["API_KEY", "JWT_SECRET"]): SecretsScope => ({
  service: "api",
  env,
  scriptName: `api-${env}`,
  required,
});

describe("diffSecrets", () => {
  it("lists missing, present and extra names per environment", () => {
    expect(diffSecrets(scope("staging"), ["JWT_SECRET", "LEGACY"])).toEqual({
      service: "api",
      env: "staging",
      scriptName: "api-staging",
      scriptExists: true,
      required: ["API_KEY", "JWT_SECRET"],
      present: ["JWT_SECRET"],
      missing: ["API_KEY"],
      extra: ["LEGACY"],
    });
    expect(diffSecrets(scope("staging"), undefined)).toMatchObject({
      scriptExists: false,
      missing: ["API_KEY", "JWT_SECRET"],
    });
  });

  it("unions the domain config's and wrangler's required names", () => {
    expect(
      requiredSecretNames({ domain: ["JWT_SECRET", "API_KEY"], wrangler: ["API_KEY", "DB_PASSWORD"] }),
    ).toEqual(["API_KEY", "DB_PASSWORD", "JWT_SECRET"]);
  });

  it("turns missing names into exit 2 naming them and the command to set them", () => {
    const error = missingSecretsError(diffSecrets(scope("production"), ["API_KEY"]));
    expect(error).toMatchObject({ code: "ERR_SECRETS_MISSING", exitCode: 2 });
    expect(error.message).toContain("JWT_SECRET");
    expect(error.hint).toContain("lego secrets push api --env production");
  });
});

describe("planners", () => {
  it("push: re-pushes persisted values and generates what is missing, leaving other remote secrets alone", () => {
    const plan = planPush({
      scope: scope("staging", ["API_KEY", "JWT_SECRET", "DB_PASSWORD"]),
      remote: ["JWT_SECRET", "MANUAL"],
      persisted: [{ name: "API_KEY", type: "api-keys" }],
    });
    expect(plan.items.map((i) => [i.name, i.source, i.reason, i.type])).toEqual([
      ["API_KEY", "vault", "persisted", "api-keys"],
      ["DB_PASSWORD", "generate", "missing", "database"],
    ]);
    expect(plan.unchanged).toEqual(["JWT_SECRET", "MANUAL"]);
    expect(JSON.stringify(plan)).not.toMatch(/value/);
  });

  it("push --only: restricts to the named secrets and says why one cannot be pushed", () => {
    const plan = planPush({
      scope: scope("staging"),
      remote: ["JWT_SECRET"],
      persisted: [],
      only: ["API_KEY", "JWT_SECRET"],
    });
    expect(plan.items.map((i) => i.name)).toEqual(["API_KEY"]);
    expect(plan.skipped).toEqual([{ name: "JWT_SECRET", reason: expect.stringContaining("rotate") }]);
  });

  it("generate: requested specs, plus missing required ones when asked", () => {
    const requested = parseSecretTypes("database");
    const only = planGenerate({ scope: scope("staging"), requested, remote: ["API_KEY"] });
    expect(only.items.map((i) => i.name)).toEqual(["DATABASE_PASSWORD"]);
    const filled = planGenerate({
      scope: scope("staging"),
      requested,
      remote: ["API_KEY"],
      fillMissing: true,
    });
    expect(filled.items.map((i) => [i.name, i.reason])).toEqual([
      ["DATABASE_PASSWORD", "requested"],
      ["JWT_SECRET", "missing"],
    ]);
  });

  it("rotate: keeps the persisted type, else infers it from the name", () => {
    const persisted = planRotate({
      scope: scope("staging"),
      name: "API_KEY",
      remote: ["API_KEY"],
      persisted: [{ name: "API_KEY", type: "webhook" }],
    });
    expect(persisted.items[0]).toMatchObject({ name: "API_KEY", type: "webhook", source: "generate" });
    const inferred = planRotate({ scope: scope("staging"), name: "JWT_SECRET", remote: [], persisted: [] });
    expect(inferred.items[0]).toMatchObject({ type: "jwt", format: { kind: "bytes", bytes: 64 } });
    expect(() =>
      planRotate({ scope: scope("staging"), name: "bad-name", remote: [], persisted: [] }),
    ).toThrowError(expect.objectContaining({ code: "ERR_SECRET_NAME_INVALID" }));
  });

  it("rotate: refuses a secret the service neither declares, has set, nor keeps (a typo creates nothing)", () => {
    const refuse = () =>
      planRotate({ scope: scope("staging"), name: "NOPE", remote: ["API_KEY"], persisted: [] });
    expect(refuse).toThrowError(expect.objectContaining({ code: "ERR_SECRET_UNDECLARED", exitCode: 2 }));
    expect(refuse).toThrowError(/has no secret NOPE/);
    // Set on the Worker but not declared: rotating it is replacing what is there, so it goes ahead.
    const set = planRotate({ scope: scope("staging"), name: "API_KEY", remote: ["API_KEY"], persisted: [] });
    expect(set.items.map((i) => i.name)).toEqual(["API_KEY"]);
  });

  it("sync: copies persisted values and lists the ones only the API knows (it never returns values)", () => {
    const plan = planSync({
      from: {
        scope: scope("staging"),
        remote: ["API_KEY", "JWT_SECRET"],
        persisted: [{ name: "JWT_SECRET", type: "jwt" }],
      },
      to: { scope: scope("production"), remote: ["OTHER"] },
    });
    expect(plan.scope.env).toBe("production");
    expect(plan.items).toEqual([
      expect.objectContaining({
        name: "JWT_SECRET",
        source: "vault",
        from: { service: "api", env: "staging" },
      }),
    ]);
    expect(plan.skipped).toEqual([{ name: "API_KEY", reason: expect.stringContaining("not persisted") }]);
    expect(plan.unchanged).toEqual(["OTHER"]);
  });
});
