/**
 * OS Login: the VM turns it off for itself (per-instance `enable-oslogin=FALSE`) unless `tpu.osLogin` is true,
 * which overrides the project's metadata but not an organization policy. If constraints/compute.requireOsLogin is
 * enforced, the `ssh-keys` metadata is ignored and only OS Login users get in.
 */
import { StackConfig } from "../../components/config/loadConfig";
import { apiError, GoogleApis } from "./apis";
import { CheckResult, fail, pass, warn } from "./result";

const CONSTRAINT = "constraints/compute.requireOsLogin";

/** Compute `projects.get`: the project-wide `enable-oslogin` metadata, if set. */
async function projectOsLogin(api: GoogleApis, project: string): Promise<string | undefined> {
    const response = await api.get("compute", `/compute/v1/projects/${encodeURIComponent(project)}`);
    if (response.status !== 200) return undefined;
    const items = (response.data as { commonInstanceMetadata?: { items?: { key?: string; value?: string }[] } })
        .commonInstanceMetadata?.items;
    return items?.find((i) => i.key === "enable-oslogin")?.value;
}

export async function checkOsLogin(
    api: GoogleApis,
    config: StackConfig,
    computeEnabled: boolean,
): Promise<CheckResult[]> {
    const project = config.gcpProject;
    const results: CheckResult[] = [];
    // Cloud Resource Manager v1 getEffectiveOrgPolicy: the policy in force after inheritance from folders and the org.
    const policy = await api.post(
        "cloudresourcemanager",
        `/v1/projects/${encodeURIComponent(project)}:getEffectiveOrgPolicy`,
        {
            constraint: CONSTRAINT,
        },
    );
    const enforced =
        policy.status === 200 &&
        (policy.data as { booleanPolicy?: { enforced?: boolean } }).booleanPolicy?.enforced === true;
    if (policy.status !== 200) {
        results.push(
            warn(
                "os login policy",
                `could not read ${CONSTRAINT}: ${apiError(policy)}; if your organization enforces it, set tpu.osLogin true`,
                `gcloud resource-manager org-policies describe ${CONSTRAINT} --project ${project} --effective`,
            ),
        );
    } else if (enforced && !config.tpu.osLogin) {
        results.push(
            fail(
                "os login policy",
                `${CONSTRAINT} is enforced for ${project}: the VM's enable-oslogin=FALSE and its ssh-keys metadata are ignored, so pulumi up could not log in`,
                `pulumi config set --path tpu.osLogin true --stack ${config.stack}, set ssh.user to your OS Login user and add the stack's key to your profile (see the README), or have an organization admin run: gcloud resource-manager org-policies disable-enforce compute.requireOsLogin --project ${project}`,
            ),
        );
    } else {
        results.push(
            pass("os login policy", `${CONSTRAINT} is ${enforced ? "enforced" : "not enforced"} for ${project}`),
        );
    }
    if (config.tpu.osLogin) {
        results.push(
            pass(
                "os login",
                `tpu.osLogin is true: the VMs accept keys in the OS Login profile of ssh.user (${config.ssh.user}); the ssh-keys metadata is not set`,
            ),
        );
    } else {
        const value = computeEnabled ? await projectOsLogin(api, project) : undefined;
        results.push(
            pass(
                "os login",
                value?.toUpperCase() === "TRUE"
                    ? "the project's metadata turns OS Login on; the VMs' own enable-oslogin=FALSE overrides it"
                    : "off on the VMs (per-instance enable-oslogin=FALSE); they accept the stack's key through ssh-keys",
            ),
        );
    }
    return results;
}
