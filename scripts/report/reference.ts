/**
 * The reference figures the SOP observed (scripts/report/sop-observed.json, transcribed from
 * the SOP's "Observed result (2026-01-29)" section; a verbatim copy is in test/fixtures/report), checked with zod when loaded.
 */
import * as fs from "fs";
import * as path from "path";

import { z } from "zod";

/** The checked-in figures, next to this module. */
export const OBSERVED_FILE = path.join(__dirname, "sop-observed.json");

const metricList = z.array(z.number().min(0).max(1));

export const observedSchema = z
    .object({
        source: z.string().min(1),
        date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
        k: z.array(z.number().int().positive()).min(1),
        runs: z.record(
            z.string(),
            z.object({
                description: z.string(),
                checkpoint: z.string(),
                n: z.number().int().nonnegative(),
                invalid: z.number().int().nonnegative(),
                wandbUrl: z.string(),
                hr: metricList,
                ndcg: metricList,
            }),
        ),
    })
    .superRefine((observed, ctx) => {
        for (const [name, run] of Object.entries(observed.runs)) {
            for (const field of ["hr", "ndcg"] as const) {
                if (run[field].length !== observed.k.length) {
                    ctx.addIssue({
                        code: "custom",
                        path: ["runs", name, field],
                        message: `has ${run[field].length} values for ${observed.k.length} K`,
                    });
                }
            }
        }
    });

export type ObservedFigures = z.infer<typeof observedSchema>;

/** Validates reference figures; throws with the field named if they are malformed. */
export function parseObserved(value: unknown): ObservedFigures {
    const parsed = observedSchema.safeParse(value);
    if (!parsed.success) {
        const why = parsed.error.issues
            .map((i) => `${i.path.map(String).join(".") || "(root)"}: ${i.message}`)
            .join("; ");
        throw new Error(`scripts/report/sop-observed.json is malformed: ${why}`);
    }
    return parsed.data;
}

/** The checked-in SOP figures. */
export function loadObserved(file: string = OBSERVED_FILE): ObservedFigures {
    return parseObserved(JSON.parse(fs.readFileSync(file, "utf8")) as unknown);
}
