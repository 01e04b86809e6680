// `npm run faults`: known TPU failure modes, injected into the rehearsal's real engine, hosts and emulator.
// The cases are a table (faults/cases.ts). One line per check, `PASS|FAIL | name | expected | observed`, then
// `N passed, N failed`.
import { Check, FaultContext } from "./faults/context";
import { FAULT_CASES } from "./faults/cases";
import { setUpWorld, World } from "./world";

const say = (text: string) => process.stderr.write(`[faults] ${text}\n`);

function print(check: Check): void {
    // A failure says all it knows: CI's log is all there is to go on.
    const observed = check.observed.replace(/\s+/g, " ").slice(0, check.ok ? 400 : 4000);
    console.log(`${check.ok ? "PASS" : "FAIL"} | ${check.name} | expected: ${check.expected} | observed: ${observed}`);
}

async function main(): Promise<number> {
    const started = Date.now();
    const checks: Check[] = [];
    const record = (check: Check) => {
        checks.push(check);
        print(check);
    };
    let world: World | undefined;
    let ctx: FaultContext | undefined;
    try {
        world = await setUpWorld("faults", { echo: process.env.REHEARSE_QUIET !== "1" });
        ctx = new FaultContext(world);
        // FAULTS_ONLY=<regex> runs only the matching cases (while working on them; CI runs all of them).
        const only = process.env.FAULTS_ONLY ? new RegExp(process.env.FAULTS_ONLY) : undefined;
        for (const fault of FAULT_CASES.filter((f) => !only || only.test(f.name))) {
            const caseStarted = Date.now();
            say(`case: ${fault.name}`);
            try {
                await fault.inject?.(ctx);
                for (const check of await fault.expect(ctx)) record(check);
            } catch (err) {
                record({
                    name: fault.name,
                    expected: "the case runs to its checks",
                    ok: false,
                    observed: (err as Error).message.slice(0, 3000),
                });
            } finally {
                await fault.restore?.(ctx);
            }
            say(`case done in ${((Date.now() - caseStarted) / 1000).toFixed(0)} s: ${fault.name}`);
        }
    } catch (err) {
        record({ name: "fault world", expected: "set up", ok: false, observed: (err as Error).message.slice(0, 3000) });
    } finally {
        if (world) await world.teardown();
    }
    // The lifecycle figures the cases measured (detection, recovery, idle after the work), for the notes and README.
    if (ctx && Object.keys(ctx.figures).length) console.log(`figures: ${JSON.stringify(ctx.figures)}`);
    const failed = checks.filter((c) => !c.ok).length;
    say(`${((Date.now() - started) / 1000).toFixed(0)} s`);
    console.log(`${checks.length - failed} passed, ${failed} failed`);
    return failed === 0 ? 0 : 1;
}

main().then(
    (code) => process.exit(code),
    (err) => {
        console.error(err);
        process.exit(1);
    },
);
