/**
 * Pure config loading: the stack's `tpu-sft:*` values as the engine gives them in, a validated and derived
 * StackConfig out, or one ConfigError that lists every problem at once (key, value, fix) before any resource
 * exists. Each top-level key is checked on its own, and the checks between keys use every value that is valid on
 * its own, so one bad value does not hide the others.
 */
import { Checker } from "./checker";
import { reportIssue } from "./issueProblems";
import { ConfigError } from "./problems";
import { checkRelations, Derived } from "./relations";
import { SECTION_NAMES, SECTIONS, SectionName, Sections } from "./schema";
import { CommonConfig, RawConfig, RoleConfig, StackConfig, TargetConfig, TpuConfig } from "./stackConfig";
import { checkGcpProject, checkSecrets, checkTopLevelKeys } from "./topLevelKeys";

export { CONFIG_NAMESPACE, ConfigError } from "./problems";
export type { ConfigProblem } from "./problems";
export type {
    EvalConfig,
    EvalStackConfig,
    LocalConfig,
    RawConfig,
    StackConfig,
    TpuConfig,
    TrainConfig,
    TrainStackConfig,
} from "./stackConfig";

export function loadConfig(raw: RawConfig): StackConfig {
    const c = new Checker(raw);
    const gcpProject = checkGcpProject(c);
    checkSecrets(c);
    checkTopLevelKeys(c);
    const full: Partial<Sections> = {};
    for (const name of SECTION_NAMES) {
        if (!applies(c, name)) continue;
        const result = SECTIONS[name].safeParse(raw.values[name]);
        if (result.success) {
            (full as Record<SectionName, unknown>)[name] = result.data;
        } else {
            for (const issue of result.error.issues) reportIssue(c, [name, ...issue.path.map(segment)], issue);
        }
    }
    const derived = checkRelations(c, gcpProject);
    if (c.problems.length > 0) {
        throw new ConfigError(c.problems, raw.stack);
    }
    return assemble(raw, gcpProject, full as Sections, derived);
}

/** train and eval are read only by their role, local only by target local; relations report a misplaced one. */
function applies(c: Checker, name: SectionName): boolean {
    const role = c.pick(SECTIONS.role, ["role"]);
    const target = c.pick(SECTIONS.target, ["target"]);
    if (name === "train") return role !== "eval";
    if (name === "eval") return role !== "train";
    if (name === "local") return target !== "gcp";
    return true;
}

function segment(part: PropertyKey): string | number {
    return typeof part === "number" ? part : String(part);
}

function assemble(raw: RawConfig, gcpProject: string | undefined, full: Sections, derived: Derived): StackConfig {
    const { shape, zones, zone, vmName, bucketName, bucketLocation, serviceAccountCreate } = derived;
    if (
        gcpProject === undefined ||
        shape === undefined ||
        zones === undefined ||
        zone === undefined ||
        vmName === undefined ||
        bucketName === undefined ||
        bucketLocation === undefined ||
        serviceAccountCreate === undefined
    ) {
        throw new Error("loadConfig: a derived value is missing although no problem was reported (a bug)");
    }
    const tpu: TpuConfig = {
        ...full.tpu,
        zone,
        zones,
        serviceAccount: { ...full.tpu.serviceAccount, create: serviceAccountCreate },
        reclaim: full.tpu.reclaim ?? (full.tpu.adopt ? "keep" : full.role === "train" ? "after-handoff" : "after-eval"),
    };
    const common: CommonConfig = {
        stack: raw.stack,
        gcpProject,
        tpu,
        ssh: full.ssh,
        repos: full.repos,
        env: full.env,
        bucket: full.bucket,
        wandb: full.wandb,
        project: full.project,
        supervisor: full.supervisor,
        shape,
        region: derived.region ?? zone,
        vmName,
        bucketName,
        bucketLocation,
        serviceAccountId: derived.serviceAccountId,
        generateSshKey: !raw.secretsSet.sshPrivateKey,
    };
    const role: RoleConfig | undefined =
        full.role === "train" && full.train
            ? { role: "train", train: full.train }
            : full.role === "eval" && full.eval
              ? { role: "eval", eval: full.eval }
              : undefined;
    const target: TargetConfig | undefined =
        full.target === "local" && full.local
            ? { target: "local", local: full.local }
            : full.target === "gcp"
              ? { target: "gcp" }
              : undefined;
    if (!role || !target) {
        throw new Error("loadConfig: the role or target section is missing although no problem was reported (a bug)");
    }
    return { ...common, ...role, ...target };
}
