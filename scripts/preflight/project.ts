/** The project: reachable with these credentials, and which of the APIs the program needs are enabled. */
import { REQUIRED_SERVICES } from "../../components/gcp/readiness";
import { apiError, GoogleApis, quotaProjectHint } from "./apis";
import { CheckResult, fail, pass } from "./result";

export interface ProjectInfo {
    readonly id: string;
    readonly number: string;
}

/** Cloud Resource Manager v1 `projects.get`. A project the caller cannot see answers 403, like a missing one. */
export async function checkProject(
    api: GoogleApis,
    project: string,
    stack: string,
): Promise<{ result: CheckResult; info?: ProjectInfo }> {
    const response = await api.get("cloudresourcemanager", `/v1/projects/${encodeURIComponent(project)}`);
    const data = response.data as { projectNumber?: string; lifecycleState?: string };
    if (response.status === 200 && data.projectNumber) {
        if (data.lifecycleState && data.lifecycleState !== "ACTIVE") {
            return {
                result: fail(
                    "project",
                    `${project} is ${data.lifecycleState}`,
                    `gcloud projects undelete ${project}, or pulumi config set gcp:project <active-project> --stack ${stack}`,
                ),
            };
        }
        return {
            result: pass("project", `${project} (number ${data.projectNumber}) is reachable`),
            info: { id: project, number: data.projectNumber },
        };
    }
    return {
        result: fail(
            "project",
            `cannot read project ${project}: ${apiError(response)}`,
            quotaProjectHint(response, project) ??
                `pulumi config set gcp:project <a-project-id-from: gcloud projects list> --stack ${stack}`,
        ),
    };
}

export interface ServiceStates {
    readonly results: CheckResult[];
    /** The required APIs that are enabled now. */
    readonly enabled: ReadonlySet<string>;
}

/** Service Usage `services.batchGet` for the APIs the program calls. */
export async function checkServices(
    api: GoogleApis,
    project: string,
    enableServices: boolean,
    stack: string,
): Promise<ServiceStates> {
    const names = REQUIRED_SERVICES.map((s) => `names=${encodeURIComponent(`projects/${project}/services/${s}`)}`);
    const response = await api.get(
        "serviceusage",
        `/v1/projects/${encodeURIComponent(project)}/services:batchGet?${names.join("&")}`,
    );
    if (response.status !== 200) {
        return {
            results: [
                fail(
                    "services",
                    `cannot read the enabled APIs: ${apiError(response)}`,
                    quotaProjectHint(response, project) ??
                        `gcloud services enable serviceusage.googleapis.com --project ${project}`,
                ),
            ],
            enabled: new Set(),
        };
    }
    const services = (response.data as { services?: { name?: string; state?: string }[] }).services ?? [];
    const enabled = new Set(
        services
            .filter((s) => s.state === "ENABLED")
            .map((s) => (s.name ?? "").split("/").pop() as string)
            .filter((s) => s !== ""),
    );
    const disabled = REQUIRED_SERVICES.filter((s) => !enabled.has(s));
    if (disabled.length === 0) {
        return { results: [pass("services", `${REQUIRED_SERVICES.join(", ")} are enabled`)], enabled };
    }
    const command = `gcloud services enable ${disabled.join(" ")} --project ${project}`;
    if (enableServices) {
        return {
            results: [
                pass(
                    "services",
                    `${disabled.join(", ")} disabled now; pulumi up enables them (project.enableServices)`,
                ),
            ],
            enabled,
        };
    }
    return {
        results: [
            fail(
                "services",
                `${disabled.join(", ")} ${disabled.length === 1 ? "is" : "are"} disabled and project.enableServices is false`,
                `${command}, or pulumi config set --path project.enableServices true --stack ${stack}`,
            ),
        ],
        enabled,
    };
}
