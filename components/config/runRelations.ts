/**
 * Checks between a stack's runs: unique names, one output directory each (compared after normalization, none
 * inside another), one YAML each, intervals that fit the time limit, and the eval stack's checkpoint source.
 */
import { Checker } from "./checker";
import { isWithin } from "./repoPath";
import { evalFields, evalRunSchema, trainFields, trainRunSchema } from "./schema";

export function checkRuns(c: Checker, section: "train" | "eval"): void {
    const runs = c.at([section, "runs"]);
    if (!Array.isArray(runs)) return;
    const runSchema = section === "train" ? trainRunSchema : evalRunSchema;
    const fields = section === "train" ? trainFields : evalFields;
    const seen = new Map<string, number>();
    const dirs: (string | undefined)[] = [];
    const configs: (string | undefined)[] = [];
    runs.forEach((_, i) => {
        const name = c.pick(runSchema.shape.name, [section, "runs", i, "name"]);
        if (name !== undefined) {
            const first = seen.get(name);
            if (first !== undefined) {
                c.add(
                    [section, "runs", i, "name"],
                    `repeats ${section}.runs[${first}].name`,
                    c.fix.set([section, "runs", i, "name"], "<another-name>"),
                );
            } else {
                seen.set(name, i);
            }
        }
        dirs.push(c.pick(runSchema.shape.outputDir, [section, "runs", i, "outputDir"]));
        configs.push(c.pick(runSchema.shape.config, [section, "runs", i, "config"]));
    });
    dirs.forEach((dir, j) => {
        if (dir === undefined) return;
        for (let i = 0; i < j; i++) {
            const other = dirs[i];
            if (other === undefined) continue;
            const relation =
                dir === other
                    ? "is the same directory as"
                    : isWithin(dir, other)
                      ? "lies inside"
                      : isWithin(other, dir)
                        ? "contains"
                        : undefined;
            if (relation === undefined) continue;
            c.add(
                [section, "runs", j, "outputDir"],
                `${relation} ${section}.runs[${i}].outputDir (${other} and ${dir} after normalization); each run needs its own output directory`,
                c.fix.set([section, "runs", j, "outputDir"], "runs/<another-dir>"),
            );
            break;
        }
    });
    configs.forEach((config, j) => {
        const first = config === undefined ? -1 : configs.indexOf(config);
        if (first >= 0 && first < j) {
            c.add(
                [section, "runs", j, "config"],
                `is the same YAML as ${section}.runs[${first}].config, so both runs would write its one output_dir`,
                c.fix.set([section, "runs", j, "config"], "projects/minionerec/sft/configs/<name>.yaml"),
            );
        }
    });
    checkTiming(c, section, fields);
}

function checkTiming(c: Checker, section: "train" | "eval", fields: typeof trainFields | typeof evalFields): void {
    const minutes = c.pick(fields.timeLimitMinutes, [section, "timeLimitMinutes"]);
    const poll = c.pick(fields.pollSeconds, [section, "pollSeconds"]);
    const grace = c.pick(fields.graceSeconds, [section, "graceSeconds"]);
    const progress = c.pick(fields.progressSeconds, [section, "progressSeconds"]);
    if (minutes === undefined) return;
    const limit = minutes * 60;
    const within = `the time limit of ${limit} s (${section}.timeLimitMinutes ${minutes})`;
    const raise = c.fix.set([section, "timeLimitMinutes"], String(Math.max(minutes, 60)));
    if (poll !== undefined && poll >= limit) {
        c.add(
            [section, "pollSeconds"],
            `is not shorter than ${within}`,
            `${c.fix.set([section, "pollSeconds"], String(Math.max(1, Math.floor(limit / 10))))}, or raise the limit: ${raise}`,
        );
    } else if (poll !== undefined && grace !== undefined && poll + grace > limit) {
        c.add(
            [section, "graceSeconds"],
            `plus ${section}.pollSeconds (${poll}) is ${poll + grace} s, longer than ${within}`,
            `${c.fix.set([section, "graceSeconds"], String(Math.max(0, Math.floor((limit - poll) / 2))))}, or raise the limit: ${raise}`,
        );
    }
    if (progress !== undefined && progress > limit) {
        c.add(
            [section, "progressSeconds"],
            `is longer than ${within}, so no progress line would ever be printed`,
            `${c.fix.set([section, "progressSeconds"], String(Math.max(1, Math.floor(limit / 4))))}, or raise the limit: ${raise}`,
        );
    }
}

export function checkEvalSources(c: Checker): void {
    const trainStackGiven = c.at(["eval", "trainStack"]) !== undefined;
    const checkpointsGiven = c.at(["eval", "checkpoints"]) !== undefined;
    const handoffGiven = c.at(["eval", "handoff"]) !== undefined;
    // None given: the handoff manifests, with their defaults.
    if (Number(trainStackGiven) + Number(checkpointsGiven) + Number(handoffGiven) > 1) {
        const given = [
            trainStackGiven ? "eval.trainStack" : "",
            checkpointsGiven ? "eval.checkpoints" : "",
            handoffGiven ? "eval.handoff" : "",
        ].filter((k) => k !== "");
        const [first, ...others] = given;
        c.add(
            [...(first.split(".") as [string, string])],
            `and ${others.join(" and ")} are both set; choose one source of checkpoints`,
            `keep one of ${given.join(", ")} (with none of them, eval reads the train stack's handoff manifests) and remove the others with pulumi config rm --path`,
        );
        return;
    }
    const checkpoints = c.pick(evalFields.checkpoints, ["eval", "checkpoints"]);
    const runs = c.at(["eval", "runs"]);
    if (!checkpoints || !Array.isArray(runs)) return;
    runs.forEach((_, i) => {
        const trainRun = c.pick(evalRunSchema.shape.trainRun, ["eval", "runs", i, "trainRun"]);
        const kind = c.pick(evalRunSchema.shape.checkpoint, ["eval", "runs", i, "checkpoint"]);
        if (trainRun === undefined || kind === undefined || checkpoints[trainRun]?.[kind]) return;
        c.add(
            ["eval", "runs", i, "trainRun"],
            `has no '${kind}' checkpoint under eval.checkpoints`,
            c.fix.set(
                ["eval", "checkpoints", trainRun, kind, "uri"],
                `gs://my-bucket/sft_match_official/${trainRun}/sft_state_${kind}.msgpack`,
            ),
        );
    });
}
