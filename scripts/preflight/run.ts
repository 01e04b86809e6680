/**
 * Runs every preflight check for one stack and returns one line per finding. Checks that need no network run
 * inside loadConfig (the same validation `pulumi up` does); the rest read the real Google APIs, read-only.
 */
import * as path from "path";
import { GoogleAuth } from "google-auth-library";
import { ConfigError, loadConfig, RawConfig, StackConfig } from "../../components/config/loadConfig";
import { apiRoots, GoogleApis, RequestClient } from "./apis";
import { checkBucket } from "./bucket";
import { checkIdentity } from "./identity";
import { checkFirewall, checkNetwork } from "./network";
import { checkOsLogin } from "./osLogin";
import { checkProject, checkServices } from "./project";
import { checkQuota } from "./quota";
import { CheckResult, fail, formatResult, pass, skip, summarize } from "./result";
import { readStackFile } from "./stackFile";
import { readStateHoldsBucket } from "./stackState";

const CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform";

export interface PreflightOptions {
    /** The stack, as `pulumi --stack` takes it; its config is Pulumi.<last segment>.yaml in `dir`. */
    readonly stack: string;
    /** The Pulumi project directory. */
    readonly dir: string;
    /** An authenticated client; by default application-default credentials. */
    readonly authClient?: RequestClient;
    /** One root for every API (`<root>/<api>`), instead of Google's; for tests. */
    readonly apiRoot?: string;
    /** The Pulumi CLI, for reading the stack's state; default ["pulumi"]. */
    readonly pulumiCommand?: readonly string[];
}

export interface PreflightReport {
    readonly results: CheckResult[];
    readonly lines: string[];
    /** True when `pulumi up` can start: nothing failed. */
    readonly ok: boolean;
}

/** Application-default credentials that can mint a token, or the reason they cannot. */
async function defaultCredentials(): Promise<{ client?: RequestClient; problem?: string }> {
    try {
        const client = await new GoogleAuth({ scopes: [CLOUD_PLATFORM] }).getClient();
        await client.getAccessToken();
        return { client };
    } catch (err) {
        return { problem: (err as Error).message.split("\n")[0] };
    }
}

/**
 * loadConfig's problems, one FAIL each. When the only problem is the missing W&B key, the cloud checks still run
 * on the config as it would be with the key set: the key does not change what the project needs.
 */
function configResults(raw: RawConfig): { results: CheckResult[]; config?: StackConfig } {
    try {
        const config = loadConfig(raw);
        const wandb =
            config.wandb.mode === "disabled"
                ? pass("wandb", "wandb.mode is disabled: no key needed")
                : pass("wandb", "tpu-sft:wandbApiKey is set (a secure value)");
        return { results: [pass("config", `Pulumi.${raw.stack}.yaml is valid`), wandb], config };
    } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        const results = err.problems.map((p) =>
            fail(p.key === "tpu-sft:wandbApiKey" ? "wandb" : "config", `${p.key} = ${p.value}: ${p.problem}`, p.fix),
        );
        const onlyWandb = err.problems.every((p) => p.key === "tpu-sft:wandbApiKey");
        if (!onlyWandb) return { results };
        return {
            results: [pass("config", `Pulumi.${raw.stack}.yaml is valid apart from the W&B key`), ...results],
            config: loadConfig({ ...raw, secretsSet: { ...raw.secretsSet, wandbApiKey: true } }),
        };
    }
}

export async function runPreflight(options: PreflightOptions): Promise<PreflightReport> {
    const results: CheckResult[] = [];
    const finish = (): PreflightReport => {
        const summary = summarize(results);
        return { results, lines: [...results.map(formatResult), summary.line], ok: summary.ok };
    };
    const shortStack = options.stack.split("/").pop() as string;
    const raw = readStackFile(options.dir, shortStack);
    const loaded = configResults(raw);
    results.push(...loaded.results);
    const config = loaded.config;
    if (!config) {
        results.push(skip("cloud", "the cloud checks need a valid configuration; fix the config above first"));
        return finish();
    }
    if (config.target !== "gcp") {
        results.push(skip("cloud", `target is ${config.target}: the rehearsal needs no GCP project`));
        return finish();
    }

    let client = options.authClient;
    if (!client) {
        const adc = await defaultCredentials();
        if (!adc.client) {
            results.push(
                fail(
                    "credentials",
                    `no usable application-default credentials: ${adc.problem}`,
                    "gcloud auth application-default login",
                ),
            );
            return finish();
        }
        client = adc.client;
    }
    results.push(pass("credentials", "application-default credentials issue an access token"));
    const api = new GoogleApis(client, apiRoots(options.apiRoot));

    const project = await checkProject(api, config.gcpProject, config.stack);
    results.push(project.result);
    if (!project.info) {
        results.push(skip("cloud", `the remaining checks need project ${config.gcpProject}`));
        return finish();
    }
    const services = await checkServices(api, config.gcpProject, config.project.enableServices, config.stack);
    results.push(...services.results);
    const enabled = (service: string) => services.enabled.has(service);
    const notYet = (check: string, service: string) =>
        skip(
            check,
            `${service} is not enabled yet; run preflight again after: gcloud services enable ${service} --project ${config.gcpProject}`,
        );

    results.push(
        enabled("tpu.googleapis.com")
            ? await checkQuota(
                  api,
                  config.gcpProject,
                  config.tpu.zone,
                  config.shape,
                  config.tpu.provisioning,
                  config.stack,
              )
            : notYet(`quota ${config.tpu.zone}`, "tpu.googleapis.com"),
    );
    if (enabled("compute.googleapis.com")) {
        results.push(...(await checkNetwork(api, config)));
        results.push(await checkFirewall(api, config));
    } else {
        results.push(notYet("network", "compute.googleapis.com"));
    }
    results.push(...(await checkOsLogin(api, config, enabled("compute.googleapis.com"))));
    results.push(
        enabled("iam.googleapis.com") || config.tpu.serviceAccount.email === undefined
            ? await checkIdentity(api, config)
            : notYet("service account", "iam.googleapis.com"),
    );
    results.push(
        ...(await checkBucket({
            api,
            config,
            projectNumber: project.info.number,
            stateHoldsBucket: () =>
                readStateHoldsBucket(
                    options.pulumiCommand ?? ["pulumi"],
                    path.resolve(options.dir),
                    options.stack,
                    config.bucketName,
                ),
        })),
    );
    return finish();
}
