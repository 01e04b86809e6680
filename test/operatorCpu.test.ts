// bench:scale's measure of the operator's CPU: /proc/<pid>/stat parsed, the tree under a named process picked out of
// a snapshot, and the sampler against a real process that burns CPU.
import * as assert from "assert";
import { spawn } from "child_process";
import { machineBusySeconds, parseProcStat, sampleOperatorCpu, treeTicks } from "./bench/operatorCpu";

/** A /proc/<pid>/stat line with the given name, parent and utime/stime (ticks). */
function statLine(pid: number, comm: string, ppid: number, utime: number, stime: number): string {
    const rest = ["S", ppid, pid, pid, 0, -1, 4194560, 100, 0, 0, 0, utime, stime, 0, 0, 20, 0, 1, 0, 1000];
    return `${pid} (${comm}) ${rest.join(" ")}`;
}

describe("bench:scale: the operator's CPU", () => {
    it("parses pid, parent, name and utime + stime, with a name holding spaces and parentheses", () => {
        assert.deepStrictEqual(parseProcStat(statLine(42, "a (b) c", 7, 150, 25)), {
            pid: 42,
            ppid: 7,
            comm: "a (b) c",
            ticks: 175,
        });
        assert.strictEqual(parseProcStat("garbage"), undefined);
    });

    it("counts the processes under a `pulumi` below this process, and nothing else", () => {
        const stats = [
            { pid: 10, ppid: 1, comm: "node", ticks: 900 }, // the bench itself
            { pid: 11, ppid: 10, comm: "bash", ticks: 5 }, // a wrapper: above pulumi, not counted
            { pid: 12, ppid: 11, comm: "pulumi", ticks: 300 },
            { pid: 13, ppid: 12, comm: "pulumi-language", ticks: 40 },
            { pid: 14, ppid: 13, comm: "node", ticks: 200 },
            { pid: 15, ppid: 12, comm: "pulumi-resource", ticks: 60 },
            { pid: 16, ppid: 10, comm: "fake-gcs-server", ticks: 500 }, // the emulator: the cloud's side
            { pid: 17, ppid: 1, comm: "pulumi", ticks: 999 }, // another session's pulumi
            { pid: 18, ppid: 1, comm: "sshd", ticks: 70 }, // a twin host
        ];
        assert.deepStrictEqual(
            [...treeTicks(stats, 10, "pulumi").entries()].sort(([a], [b]) => a - b),
            [
                [12, 300],
                [13, 40],
                [14, 200],
                [15, 60],
            ],
        );
    });

    it("the machine's busy CPU: user, nice, system, irq, softirq and steal of /proc/stat's cpu line", () => {
        const stat = "cpu  1000 50 300 9000 400 20 30 5 0 0\ncpu0 500 25 150 4500 200 10 15 2 0 0\nintr 1\n";
        assert.strictEqual(machineBusySeconds(stat), (1000 + 50 + 300 + 20 + 30 + 5) / 100);
        assert.throws(() => machineBusySeconds("intr 1\n"), /no cpu line/);
        const now = machineBusySeconds();
        assert.ok(now > 0 && machineBusySeconds() >= now);
    });

    it("measures a real child's CPU while it runs", async () => {
        const sampler = sampleOperatorCpu(50, "sh");
        const started = Date.now();
        await new Promise<void>((resolve, reject) => {
            // Busy for about a second of CPU, then sleeps a little so the last sample sees it alive.
            const child = spawn("sh", ["-c", "i=0; while [ $i -lt 400000 ]; do i=$((i+1)); done; sleep 0.3"]);
            child.on("error", reject);
            child.on("close", () => resolve());
        });
        const { seconds: cpu, byProcess } = sampler.stop();
        const wall = (Date.now() - started) / 1000;
        assert.ok(cpu > 0.2 && cpu <= wall + 0.05, `cpu ${cpu} s over ${wall} s of wall time`);
        assert.ok(Math.abs((byProcess.sh ?? 0) + (byProcess.sleep ?? 0) - cpu) < 1e-9, JSON.stringify(byProcess));
    });
});
