// The CPU the operator's side of a `pulumi up` uses: the pulumi CLI started by this process and everything under it
// (the engine, the Node.js language host running the program, the command provider with its SSH clients). On GCP
// that is all that runs on the machine of whoever types `pulumi up`; the twin's hosts (sshd and the step scripts) run
// outside this tree (hosts.sh leaves them to PID 1) and so do the emulator's, which answer for the cloud. Sampled
// from /proc every `intervalMs`: a process that ends between two samples loses at most one interval of CPU.
import * as fs from "fs";

/** CLK_TCK on Linux: the unit of utime and stime in /proc/<pid>/stat. */
const TICKS_PER_SECOND = 100;

interface ProcStat {
    readonly pid: number;
    readonly ppid: number;
    readonly comm: string;
    /** utime + stime, in ticks. */
    readonly ticks: number;
}

/** One line of /proc/<pid>/stat; undefined when it is not one. The name may hold spaces and parentheses. */
export function parseProcStat(line: string): ProcStat | undefined {
    const open = line.indexOf("(");
    const close = line.lastIndexOf(")");
    if (open < 0 || close < open) return undefined;
    const fields = line
        .slice(close + 2)
        .trim()
        .split(/\s+/);
    // After the name: state(3) ppid(4) … utime(14) stime(15), so ppid is fields[1], utime fields[11], stime fields[12].
    const [ppid, utime, stime] = [fields[1], fields[11], fields[12]].map(Number);
    if (![ppid, utime, stime].every(Number.isInteger)) return undefined;
    return { pid: Number(line.slice(0, open).trim()), ppid, comm: line.slice(open + 1, close), ticks: utime + stime };
}

/** CPU seconds of every process under a process named `rootComm` that descends from `ancestor`, in this snapshot. */
export function treeTicks(stats: readonly ProcStat[], ancestor: number, rootComm: string): Map<number, number> {
    const parentOf = new Map(stats.map((s) => [s.pid, s.ppid]));
    const byPid = new Map(stats.map((s) => [s.pid, s]));
    const counted = new Map<number, number>();
    for (const stat of stats) {
        // Walk up: is some ancestor (or the process itself) a `rootComm` under `ancestor`?
        let inTree = false;
        let seenRoot = false;
        for (let pid: number | undefined = stat.pid, hops = 0; pid !== undefined && pid > 0 && hops < 64; hops++) {
            if (pid === ancestor) {
                inTree = seenRoot;
                break;
            }
            if (byPid.get(pid)?.comm === rootComm) seenRoot = true;
            pid = parentOf.get(pid);
        }
        if (inTree) counted.set(stat.pid, stat.ticks);
    }
    return counted;
}

function snapshot(): ProcStat[] {
    const stats: ProcStat[] = [];
    for (const entry of fs.readdirSync("/proc")) {
        if (!/^[0-9]+$/.test(entry)) continue;
        try {
            const stat = parseProcStat(fs.readFileSync(`/proc/${entry}/stat`, "utf8"));
            if (stat) stats.push(stat);
        } catch {
            // The process ended while the directory was read.
        }
    }
    return stats;
}

export interface TreeCpu {
    /** CPU seconds of the whole tree. */
    readonly seconds: number;
    /** The same by process name (the kernel's 15-character `comm`), largest first. */
    readonly byProcess: Record<string, number>;
}

/** Starts sampling; `stop()` returns the CPU the tree used since the start (the highest count seen per pid). */
export function sampleOperatorCpu(intervalMs = 250, rootComm = "pulumi"): { stop(): TreeCpu } {
    const highest = new Map<number, { comm: string; ticks: number }>();
    const take = () => {
        const stats = snapshot();
        const commOf = new Map(stats.map((s) => [s.pid, s.comm]));
        for (const [pid, ticks] of treeTicks(stats, process.pid, rootComm)) {
            const seen = highest.get(pid);
            highest.set(pid, { comm: commOf.get(pid) ?? "?", ticks: Math.max(seen?.ticks ?? 0, ticks) });
        }
    };
    take();
    const timer = setInterval(take, intervalMs);
    return {
        stop() {
            clearInterval(timer);
            take();
            const byProcess: Record<string, number> = {};
            let ticks = 0;
            for (const { comm, ticks: used } of highest.values()) {
                ticks += used;
                byProcess[comm] = (byProcess[comm] ?? 0) + used / TICKS_PER_SECOND;
            }
            const sorted = Object.entries(byProcess).sort(([, a], [, b]) => b - a);
            return { seconds: ticks / TICKS_PER_SECOND, byProcess: Object.fromEntries(sorted) };
        },
    };
}

/**
 * CPU seconds every process of the machine has used since boot, from the `cpu` line of /proc/stat: user, nice,
 * system, irq, softirq and steal (not idle nor iowait). The difference over an `up` is what the whole machine did
 * meanwhile: the operator, the twin's hosts, the emulator, and any other session's work.
 */
export function machineBusySeconds(procStat: string = fs.readFileSync("/proc/stat", "utf8")): number {
    const line = procStat.split("\n").find((l) => /^cpu\s/.test(l));
    if (!line) throw new Error("/proc/stat has no cpu line");
    const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
    return (user + nice + system + irq + softirq + (steal || 0)) / TICKS_PER_SECOND;
}
