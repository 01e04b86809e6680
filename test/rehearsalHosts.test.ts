// The rehearsal's local "TPU VM" hosts (test/rehearsal/hosts.sh), checked the way the Pulumi command
// provider will use them: over real SSH with the system ssh client. Each host must have its own name, /root,
// process table and address, reach the other workers and the bridge, keep jobs that an SSH session detached,
// and vanish entirely on `down`. Needs root (network namespaces, a bridge, bind mounts); it is skipped only
// when not run as root.
import * as assert from "assert";
import { spawn } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { rehearsalSshArgs } from "./rehearsal/cli";

const HOSTS_SH = path.resolve(__dirname, "rehearsal", "hosts.sh");

interface Run {
    readonly code: number | null;
    readonly stdout: string;
    readonly stderr: string;
}

interface HostEntry {
    readonly name: string;
    readonly hostname: string;
    readonly host: string;
    readonly port: number;
    readonly netns: string;
    readonly workerId?: number;
}

interface HostsJson {
    readonly train: HostEntry[];
    readonly eval: HostEntry[];
    readonly bridge: string;
    readonly subnet: string;
    readonly world: string;
}

function run(cmd: string, args: string[], timeoutMs = 60000): Promise<Run> {
    return new Promise((resolve, reject) => {
        const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        child.on("error", reject);
        child.on("close", (code) => {
            clearTimeout(timer);
            resolve({ code, stdout, stderr });
        });
    });
}

async function mustRun(cmd: string, args: string[], timeoutMs?: number): Promise<string> {
    const r = await run(cmd, args, timeoutMs);
    if (r.code !== 0)
        throw new Error(`${cmd} ${args.join(" ")} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    return r.stdout;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Command lines of every live (non-zombie) process on this machine, by pid. */
function liveProcesses(): Map<number, string> {
    const out = new Map<number, string>();
    for (const entry of fs.readdirSync("/proc")) {
        if (!/^\d+$/.test(entry)) continue;
        try {
            const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
            if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) continue;
            out.set(Number(entry), fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").replace(/\0/g, " ").trim());
        } catch {
            // the process ended while we looked
        }
    }
    return out;
}

describe("rehearsal hosts: namespaces + sshd that look like TPU VM workers (test/rehearsal/hosts.sh)", function () {
    // The first `up` on a fresh machine installs openssh-server and friends with apt-get.
    this.timeout(300000);
    let work: string;
    let state: string;
    let key: string;
    let hosts: HostsJson;
    let all: HostEntry[];
    let upRan = false;
    const token = crypto.randomBytes(4).readUInt32BE(0) % 1000000;
    const sleepArg = `300.${String(token).padStart(6, "0")}`; // unique, so pgrep finds only our job

    const ssh = (h: HostEntry, command: string, extra: string[] = []) =>
        run("ssh", rehearsalSshArgs(key, h.host, command, { port: h.port, extra }), 30000);
    const sshOk = async (h: HostEntry, command: string): Promise<string> => {
        const r = await ssh(h, command);
        assert.strictEqual(r.code, 0, `ssh ${h.name} '${command}' exited ${r.code}: ${r.stderr}`);
        return r.stdout;
    };
    const hostsSh = (...args: string[]) => run("bash", [HOSTS_SH, ...args], 240000);

    before(async function () {
        if (typeof process.getuid !== "function" || process.getuid() !== 0) {
            console.log(
                "    skipped: the rehearsal hosts need root (network namespaces, a bridge, bind mounts); run as root",
            );
            this.skip();
        }
        work = fs.mkdtempSync(path.join(os.tmpdir(), "tpu-sft-rehearsal-hosts-"));
        state = path.join(work, "state");
        key = path.join(work, "id_ed25519");
        await mustRun("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "rehearsal-test", "-f", key]);
        const up = await hostsSh("up", state, `${key}.pub`);
        upRan = true;
        assert.strictEqual(up.code, 0, `hosts.sh up failed:\n${up.stderr}`);
        const lines = up.stdout.trim().split("\n");
        hosts = JSON.parse(lines[lines.length - 1]) as HostsJson;
        all = [...hosts.train, ...hosts.eval];
    });

    after(async function () {
        if (!upRan) return;
        await hostsSh("down", state, "--purge");
        fs.rmSync(work, { recursive: true, force: true });
    });

    it("up prints hosts.json: 4 train workers and 1 eval host on the rehearsal subnet, port 22", function () {
        assert.deepStrictEqual(JSON.parse(fs.readFileSync(path.join(state, "hosts.json"), "utf8")), hosts);
        const net24 = hosts.bridge.replace(/\.1$/, "");
        assert.deepStrictEqual(
            hosts.train.map((h) => [h.name, h.hostname, h.host, h.port, h.workerId]),
            [0, 1, 2, 3].map((i) => [`train-w${i}`, `t1v-n-rehearsal-train-w-${i}`, `${net24}.${10 + i}`, 22, i]),
        );
        assert.deepStrictEqual(
            hosts.eval.map((h) => [h.name, h.hostname, h.host, h.port]),
            [["eval-w0", "t1v-n-rehearsal-eval-w-0", `${net24}.200`, 22]],
        );
    });

    it("each host answers SSH with its own TPU-like hostname, HOME=/root and no route off the subnet", async function () {
        const outs = await Promise.all(
            all.map((h) =>
                sshOk(
                    h,
                    'hostname; echo "$HOME"; cd && pwd; ip -4 route show default | wc -l; ip -4 -o addr show dev eth0',
                ),
            ),
        );
        outs.forEach((out, i) => {
            const [hostname, home, pwd, defaults, addr] = out.trim().split("\n");
            assert.strictEqual(hostname, all[i].hostname);
            assert.strictEqual(home, "/root");
            assert.strictEqual(pwd, "/root");
            assert.strictEqual(defaults.trim(), "0", `${all[i].name} has a default route`);
            assert.match(addr, new RegExp(`inet ${all[i].host.replace(/\./g, "\\.")}/24 `));
        });
    });

    it("each host has its own /root: a file written on one host is on no other", async function () {
        const file = `isolation-${token}`;
        await sshOk(hosts.train[0], `echo written-on-w0 > /root/${file}`);
        assert.strictEqual(
            fs.readFileSync(path.join(state, "hosts", "train-w0", "root", file), "utf8"),
            "written-on-w0\n",
        );
        const seen = await Promise.all(
            all.map((h) => sshOk(h, `if [ -e /root/${file} ]; then cat /root/${file}; else echo absent; fi`)),
        );
        assert.deepStrictEqual(
            seen.map((s) => s.trim()),
            ["written-on-w0", "absent", "absent", "absent", "absent"],
        );
    });

    it("train hosts carry ~/.tpu-standin.env with their worker id and the 4 worker addresses; the eval host has none", async function () {
        const addresses = hosts.train.map((h) => h.host).join(",");
        for (const h of hosts.train) {
            assert.strictEqual(
                await sshOk(h, "cat /root/.tpu-standin.env"),
                `TPU_WORKER_ID=${h.workerId}\nTPU_WORKER_HOSTNAMES=${addresses}\n`,
            );
        }
        assert.strictEqual(
            (await sshOk(hosts.eval[0], "test -e /root/.tpu-standin.env && echo present || echo absent")).trim(),
            "absent",
        );
    });

    it("the train hosts reach each other over TCP port 8476 (the stand-in's rendezvous port) and the bridge address", async function () {
        // A listener on the bridge address, where the rehearsal will serve its GCS emulator.
        const server = net.createServer((s) => s.end("root-ns\n"));
        await new Promise<void>((resolve, reject) => server.once("error", reject).listen(0, hosts.bridge, resolve));
        const bridgePort = (server.address() as net.AddressInfo).port;
        try {
            // One detached listener per train host, bounded in time and connections, that answers its hostname.
            const listener =
                "import socket,sys\n" +
                "s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('0.0.0.0', 8476)); s.listen(16); s.settimeout(60)\n" +
                "for _ in range(8):\n" +
                "    c,_a=s.accept(); c.sendall(socket.gethostname().encode()+b'\\n'); c.close()\n";
            fs.writeFileSync(path.join(work, "listener.py"), listener);
            await Promise.all(
                hosts.train.map((h) =>
                    sshOk(h, `setsid nohup python3 ${work}/listener.py >/dev/null 2>&1 </dev/null &`),
                ),
            );
            // Each worker connects to every other worker, using the addresses from its own ~/.tpu-standin.env.
            const client =
                "import socket,time\n" +
                "env=dict(l.strip().split('=',1) for l in open('/root/.tpu-standin.env') if '=' in l)\n" +
                "me=int(env['TPU_WORKER_ID']); peers=env['TPU_WORKER_HOSTNAMES'].split(',')\n" +
                "for i,p in enumerate(peers):\n" +
                "    if i==me: continue\n" +
                "    for attempt in range(50):\n" +
                "        try:\n" +
                "            c=socket.create_connection((p,8476),timeout=3); break\n" +
                "        except OSError:\n" +
                "            time.sleep(0.1)\n" +
                "    print(p, c.makefile().readline().strip())\n" +
                `c=socket.create_connection(('${hosts.bridge}',${bridgePort}),timeout=3); print('bridge', c.makefile().readline().strip())\n`;
            fs.writeFileSync(path.join(work, "client.py"), client);
            const outs = await Promise.all(hosts.train.map((h) => sshOk(h, `python3 ${work}/client.py`)));
            outs.forEach((out, me) => {
                const expected = hosts.train.filter((_, i) => i !== me).map((p) => `${p.host} ${p.hostname}`);
                assert.deepStrictEqual(
                    out.trim().split("\n"),
                    [...expected, "bridge root-ns"],
                    `from ${hosts.train[me].name}`,
                );
            });
            // The eval host reaches the bridge too (for the GCS emulator).
            const evalOut = await sshOk(
                hosts.eval[0],
                `python3 -c "import socket; print(socket.create_connection(('${hosts.bridge}',${bridgePort}),timeout=3).makefile().readline().strip())"`,
            );
            assert.strictEqual(evalOut.trim(), "root-ns");
        } finally {
            server.close();
        }
    });

    it("a job detached with setsid nohup outlives its SSH session, stays on its host, and runs with HOME=/root", async function () {
        const w2 = hosts.train[2];
        await sshOk(
            w2,
            `setsid nohup bash -c 'echo "$HOME $(hostname)" > ~/detached.txt; exec sleep ${sleepArg}' >/dev/null 2>&1 </dev/null &`,
        );
        const marker = path.join(state, "hosts", "train-w2", "root", "detached.txt");
        for (let i = 0; i < 50 && !fs.existsSync(marker); i++) await sleep(100);
        assert.strictEqual(fs.readFileSync(marker, "utf8"), `/root ${w2.hostname}\n`);
        // Seen from a new session on the same host, and only there: every host has its own process table.
        assert.match(
            await sshOk(w2, `pgrep -af 'sleep ${sleepArg}'`),
            new RegExp(`sleep ${sleepArg.replace(".", "\\.")}`),
        );
        const elsewhere = await ssh(hosts.train[3], `pgrep -af 'sleep ${sleepArg}'`);
        assert.strictEqual(elsewhere.code, 1, `train-w3 sees train-w2's job: ${elsewhere.stdout}`);
        // And from the root namespace it is one process inside train-w2's network namespace.
        const pids = [...liveProcesses()].filter(([, cmd]) => cmd === `sleep ${sleepArg}`).map(([pid]) => pid);
        assert.strictEqual(pids.length, 1);
        const nsPids = (await mustRun("ip", ["netns", "pids", w2.netns])).trim().split("\n").map(Number);
        assert.ok(nsPids.includes(pids[0]), `pid ${pids[0]} is not in ${w2.netns}`);
    });

    it("stop-sshd refuses new connections while jobs keep running; start-sshd brings it back", async function () {
        const w2 = hosts.train[2];
        const job = () => [...liveProcesses()].filter(([, cmd]) => cmd === `sleep ${sleepArg}`).map(([pid]) => pid);
        const before = job();
        assert.strictEqual(before.length, 1);
        assert.strictEqual((await hostsSh("stop-sshd", state, w2.name)).code, 0);
        const refused = await ssh(w2, "true");
        assert.strictEqual(refused.code, 255);
        assert.match(refused.stderr, /Connection refused/);
        assert.deepStrictEqual(job(), before, "the detached job died with sshd");
        const started = await hostsSh("start-sshd", state, w2.name);
        assert.strictEqual(started.code, 0, started.stderr);
        assert.strictEqual((await sshOk(w2, "hostname")).trim(), w2.hostname);
        assert.match(await sshOk(w2, `pgrep -af 'sleep ${sleepArg}'`), /sleep/);
    });

    it("cut-net makes a host unreachable (no reset, a timeout); restore-net brings it back", async function () {
        const ev = hosts.eval[0];
        assert.strictEqual((await hostsSh("cut-net", state, ev.name)).code, 0);
        const cut = await ssh(ev, "true", ["-o", "ConnectTimeout=2"]);
        assert.strictEqual(cut.code, 255);
        assert.match(cut.stderr, /timed out/);
        assert.strictEqual((await hostsSh("restore-net", state, ev.name)).code, 0);
        assert.strictEqual((await sshOk(ev, "hostname")).trim(), ev.hostname);
    });

    it("status names every host with its sshd", async function () {
        const out = await mustRun("bash", [HOSTS_SH, "status", state]);
        assert.match(out, new RegExp(`^bridge ${hosts.world}-br: ${hosts.bridge.replace(/\./g, "\\.")}/24 up$`, "m"));
        for (const h of all)
            assert.match(out, new RegExp(`^${h.name}: netns ${h.netns}, .*sshd \\d+, hostname ${h.hostname}$`, "m"));
    });

    it("a second world beside this one gets its own names and subnet, and its down leaves this one running", async function () {
        const otherState = path.join(work, "other-world");
        let otherWorld: string | undefined;
        const other = await run(
            "bash",
            ["-c", `REHEARSAL_TRAIN_HOSTS=1 bash "$0" up "$1" "$2"`, HOSTS_SH, otherState, `${key}.pub`],
            240000,
        );
        try {
            assert.strictEqual(other.code, 0, other.stderr);
            const otherHosts = JSON.parse(other.stdout.trim().split("\n").pop()!) as HostsJson;
            otherWorld = otherHosts.world;
            assert.notStrictEqual(otherHosts.world, hosts.world);
            assert.notStrictEqual(otherHosts.subnet, hosts.subnet);
            assert.deepStrictEqual(
                otherHosts.train.map((h) => h.name),
                ["train-w0"],
            );
            assert.strictEqual((await sshOk(otherHosts.train[0], "hostname")).trim(), "t1v-n-rehearsal-train-w-0");
        } finally {
            const down = await hostsSh("down", otherState, "--purge");
            assert.strictEqual(down.code, 0, down.stderr);
        }
        assert.ok(otherWorld !== undefined, "the second world printed no hosts.json");
        assert.doesNotMatch(await mustRun("ip", ["netns", "list"]), new RegExp(`^${otherWorld}-`, "m"));
        for (const h of all) assert.strictEqual((await sshOk(h, "hostname")).trim(), h.hostname);
        assert.match(await mustRun("ip", ["netns", "list"]), new RegExp(`^${hosts.world}-train-w0`, "m"));
    });

    it("down kills everything in the hosts (detached jobs too) and leaves none of this world's namespaces, links, mounts or processes", async function () {
        const down = await hostsSh("down", state);
        assert.strictEqual(down.code, 0, down.stderr);
        assert.doesNotMatch(await mustRun("ip", ["netns", "list"]), new RegExp(`${hosts.world}-`));
        assert.doesNotMatch(await mustRun("ip", ["-o", "link", "show"]), new RegExp(`${hosts.world}-`));
        assert.ok(
            !fs.readFileSync("/proc/self/mountinfo", "utf8").includes(state),
            "a mount under the state dir is left",
        );
        const leftovers = [...liveProcesses()].filter(
            ([, cmd]) => cmd.includes(state) || cmd.includes(sleepArg) || cmd.includes(`${work}/listener.py`),
        );
        assert.deepStrictEqual(leftovers, [], `processes left after down: ${JSON.stringify(leftovers)}`);
        // The files stay (only --purge removes them), and a second down is a no-op.
        assert.ok(fs.existsSync(path.join(state, "hosts.json")));
        assert.ok(fs.existsSync(path.join(state, "hosts", "train-w0", "root", `isolation-${token}`)));
        const again = await hostsSh("down", state);
        assert.strictEqual(again.code, 0, again.stderr);
        // Nothing may connect to the host addresses any more: without the bridge route they would leave the machine.
    });
});

describe("the control-plane twin: slices created, preempted, replaced and refused by hosts.sh", function () {
    this.timeout(300000);
    let work: string;
    let state: string;
    let key: string;
    let planned: HostsJson;
    let ran = false;
    const hostsSh = (...args: string[]) => run("bash", [HOSTS_SH, ...args], 240000);
    const ssh = (host: string, command: string) =>
        run("ssh", rehearsalSshArgs(key, host, command, { connectTimeoutSeconds: 3 }));
    const lastJson = <T>(stdout: string): T => JSON.parse(stdout.trim().split("\n").pop()!) as T;
    interface Slice {
        name: string;
        instance: string;
        zone: string;
        state: string;
        acceleratorHosts: number;
        hosts: { host: string; port: number; hostname: string }[];
    }

    before(async function () {
        if (typeof process.getuid !== "function" || process.getuid() !== 0) this.skip();
        work = fs.mkdtempSync(path.join(os.tmpdir(), "tpu-sft-rehearsal-twin-"));
        state = path.join(work, "state");
        key = path.join(work, "id_ed25519");
        await mustRun("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "twin-test", "-f", key]);
        const network = await hostsSh("network", state, `${key}.pub`);
        ran = true;
        assert.strictEqual(network.code, 0, network.stderr);
        planned = lastJson<HostsJson>(network.stdout);
    });

    after(async function () {
        if (!ran) return;
        await hostsSh("down", state, "--purge");
        fs.rmSync(work, { recursive: true, force: true });
    });

    it("network makes only the bridge; slice-up starts exactly <count> hosts with a fresh /root and prints the slice", async function () {
        assert.deepStrictEqual((await hostsSh("slice-state", state, "train")).stdout.trim(), "NOT_FOUND");
        const up = await hostsSh("slice-up", state, "train", "4", "us-east5-b");
        assert.strictEqual(up.code, 0, up.stderr);
        const slice = lastJson<Slice>(up.stdout);
        assert.deepStrictEqual(
            [slice.name, slice.zone, slice.state, slice.acceleratorHosts],
            ["train", "us-east5-b", "READY", 4],
        );
        assert.deepStrictEqual(
            slice.hosts.map((h) => [h.host, h.port, h.hostname]),
            planned.train.map((h) => [h.host, 22, h.hostname]),
        );
        assert.match(slice.instance, /^[0-9a-f]{12}$/);
        assert.strictEqual((await hostsSh("slice-state", state, "train")).stdout.trim(), "READY");
        const r = await ssh(slice.hosts[2].host, "hostname; ls -A /root; touch /root/left-behind");
        assert.strictEqual(r.code, 0, r.stderr);
        assert.deepStrictEqual(r.stdout.trim().split("\n"), ["t1v-n-rehearsal-train-w-2", ".ssh", ".tpu-standin.env"]);
        assert.strictEqual((await ssh(planned.eval[0].host, "true")).code === 0, false, "no eval slice yet");
    });

    it("preempt kills the hosts and records PREEMPTED; a new slice-up is a new machine (empty /root, new host key and instance)", async function () {
        const before = lastJson<Slice>(fs.readFileSync(path.join(state, "slices", "train.json"), "utf8"));
        const keyFile = path.join(state, "hosts", "train-w2", "sshd", "ssh_host_ed25519_key.pub");
        const hostKey = fs.readFileSync(keyFile, "utf8");
        assert.strictEqual((await hostsSh("preempt", state, "train")).code, 0);
        assert.strictEqual((await hostsSh("slice-state", state, "train")).stdout.trim(), "PREEMPTED");
        assert.notStrictEqual((await ssh(before.hosts[2].host, "true")).code, 0, "a preempted host answers no SSH");
        const again = await hostsSh("slice-up", state, "train", "4", "us-east5-b");
        assert.strictEqual(again.code, 0, again.stderr);
        const after = lastJson<Slice>(again.stdout);
        assert.notStrictEqual(after.instance, before.instance);
        assert.notStrictEqual(fs.readFileSync(keyFile, "utf8"), hostKey);
        const r = await ssh(after.hosts[2].host, "ls -A /root");
        assert.deepStrictEqual(r.stdout.trim().split("\n"), [".ssh", ".tpu-standin.env"]);
    });

    it("a zone without capacity refuses slice-up with GCP's stockout text; slice-down deletes the slice", async function () {
        assert.strictEqual((await hostsSh("zone-capacity", state, "us-east1-d", "none")).code, 0);
        const refused = await hostsSh("slice-up", state, "eval", "1", "us-east1-d");
        assert.strictEqual(refused.code, 1);
        assert.ok(
            refused.stderr.includes(
                'Error code 8, message: There is no more capacity in the zone "us-east1-d"; you can try in another zone where Cloud TPU Nodes are offered (see https://cloud.google.com/tpu/docs/regions)',
            ),
            refused.stderr,
        );
        assert.strictEqual((await hostsSh("slice-state", state, "eval")).stdout.trim(), "NOT_FOUND");
        assert.strictEqual((await hostsSh("zone-capacity", state, "us-east1-d", "ok")).code, 0);
        const evalUp = await hostsSh("slice-up", state, "eval", "1", "us-east1-d");
        assert.strictEqual(evalUp.code, 0, evalUp.stderr);
        assert.strictEqual((await ssh(planned.eval[0].host, "hostname")).stdout.trim(), "t1v-n-rehearsal-eval-w-0");
        assert.strictEqual((await hostsSh("slice-down", state, "train")).code, 0);
        assert.strictEqual((await hostsSh("slice-state", state, "train")).stdout.trim(), "NOT_FOUND");
        assert.ok(!fs.existsSync(`/run/netns/${planned.world}-train-w0`), "the train hosts' namespaces are gone");
        assert.strictEqual((await ssh(planned.eval[0].host, "true")).code, 0, "the eval slice is untouched");
    });
});
