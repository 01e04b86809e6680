/** Who the VMs run as, and whether that account can be granted bucket access (components/gcp/readiness.ts). */
import { StackConfig } from "../../components/config/loadConfig";
import { serviceAccountPlan } from "../../components/gcp/readiness";
import { apiError, GoogleApis } from "./apis";
import { CheckResult, fail, pass, warn } from "./result";

export async function checkIdentity(api: GoogleApis, config: StackConfig): Promise<CheckResult> {
    const plan = serviceAccountPlan(config.stack, config.tpu.serviceAccount, config.tpu.adopt);
    const set = (path: string, value: string) => `pulumi config set --path ${path} ${value} --stack ${config.stack}`;
    switch (plan.kind) {
        case "create":
            return pass(
                "service account",
                `pulumi up creates ${plan.accountId}@${config.gcpProject}.iam.gserviceaccount.com for the VMs and grants it access on the bucket only`,
            );
        case "none":
            return config.tpu.adopt
                ? warn(
                      "service account",
                      "tpu.adopt: the adopted VM keeps its own service account, which this stack grants nothing; its steps need bucket access",
                      set("tpu.serviceAccount.email", "<the VM's service account>"),
                  )
                : warn(
                      "service account",
                      "the VMs would run as the default compute account, which this stack grants nothing (new organizations give it no roles)",
                      `${set("tpu.serviceAccount.create", "true")}, or ${set("tpu.serviceAccount.email", "<an account>")}`,
                  );
        case "existing": {
            const response = await api.get("iam", `/v1/projects/-/serviceAccounts/${plan.email}`);
            if (response.status === 200) {
                return (response.data as { disabled?: boolean }).disabled
                    ? fail(
                          "service account",
                          `${plan.email} is disabled`,
                          `gcloud iam service-accounts enable ${plan.email}`,
                      )
                    : pass("service account", `${plan.email} exists; pulumi up grants it access on the bucket`);
            }
            return fail(
                "service account",
                `${plan.email} (tpu.serviceAccount.email): ${apiError(response)}`,
                `gcloud iam service-accounts create ${plan.email.split("@")[0]} --project ${config.gcpProject}, or ${set("tpu.serviceAccount.create", "true")} without an email`,
            );
        }
    }
}
