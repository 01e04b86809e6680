// What a recorded remote.CopyToRemote puts on its host, read from the source it was given (the staged directory
// on this machine), so the mock tests check the remote tree the step commands rely on, not only resource names.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { Recorded } from "./mocks";

/**
 * The files `copy` lays out on its host: home-relative path → bytes. Its source must be a FileArchive of a
 * directory whose path has no trailing slash; pulumi-command v1.2.1 copies such a directory INTO remotePath, as
 * `<remotePath>/<directory name>/<its files>` (provider/pkg/provider/remote/copyController.go, sftpCopy; the
 * whole rule is written down at StepBundle in components/steps/stepScript.ts).
 */
export async function laidOut(copy: Recorded): Promise<Map<string, Buffer>> {
    const source = copy.inputs.source;
    assert.ok(source instanceof pulumi.asset.FileArchive, `${copy.name}: the source is a FileArchive`);
    // Relative to the program's directory, as the engine resolves it (mocks see the path as a promise).
    const dir: string = await source.path;
    assert.ok(!path.isAbsolute(dir), `${copy.name}: ${dir} is relative to the program's directory`);
    assert.ok(!dir.endsWith("/"), `${copy.name}: ${dir} has no trailing slash, so it is copied into remotePath`);
    assert.ok(fs.statSync(dir).isDirectory(), `${copy.name}: ${dir} is a directory`);
    const into = `${copy.inputs.remotePath}/${path.basename(dir)}`;
    const files = new Map<string, Buffer>();
    const walk = (rel: string) => {
        for (const entry of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
            const child = rel ? `${rel}/${entry.name}` : entry.name;
            if (entry.isDirectory()) walk(child);
            else files.set(`${into}/${child}`, fs.readFileSync(path.join(dir, child)));
        }
    };
    walk("");
    return files;
}
