import * as assert from "assert";
import { parseAcceleratorType } from "../components/config/accelerators";

describe("parseAcceleratorType", () => {
    const cases: [string, string, number, number][] = [
        ["v6e-16", "v6e", 16, 4],
        ["v6e-8", "v6e", 8, 1],
        ["v6e-1", "v6e", 1, 1],
        ["v6e-256", "v6e", 256, 64],
        ["v5litepod-8", "v5e", 8, 1],
        ["v5litepod-16", "v5e", 16, 4],
        ["v5p-8", "v5p", 4, 1],
        ["v5p-16", "v5p", 8, 2],
        ["v4-8", "v4", 4, 1],
        ["v4-32", "v4", 16, 4],
    ];
    for (const [type, generation, chips, hosts] of cases) {
        it(`${type} is ${generation} with ${chips} chips on ${hosts} host(s)`, () => {
            assert.deepStrictEqual(parseAcceleratorType(type), { type, generation, chips, hosts });
        });
    }
    it("rejects unknown types and sizes", () => {
        for (const type of ["v6e-12", "v7-8", "v6e16", "V6E-16", "v5e-8", ""]) {
            assert.strictEqual(parseAcceleratorType(type), undefined, type);
        }
    });
});
